// #/ and #/p/<project>: the runs table. Rows are HTML strings (and only a
// window of them once there are very many); live `run` events patch single
// rows in place, keeping sort, filter and grouping.

import { api, subscribe, type Project, type RunRow, type Scalar } from "./api";
import { cmpValues, esc, fmtDuration, fmtTime, fmtValue, stateBadge, sweepHref } from "./format";
import { h, setCrumbs, type Page } from "./page";

/** Above this many visible rows only a window of them is in the DOM. */
const WINDOW_ABOVE = 300;
/** Row height in px when windowing (matches `.runs td` in style.css). */
const ROW_H = 28;
/** Default number of summary columns. */
const DEFAULT_SUMMARY_COLS = 5;

const FIXED = ["name", "state", "created", "duration", "tags", "group"] as const;
const FIXED_LABEL: Record<string, string> = {
  name: "Name",
  state: "State",
  created: "Created",
  duration: "Duration",
  tags: "Tags",
  group: "Group",
};

interface TableState {
  sort: { col: string; desc: boolean };
  search: string;
  state: string;
  groupBy: "" | "group" | "job_type" | "sweep";
  collapsed: Set<string>;
  selected: Set<string>;
}

/** Per project, for the life of the tab (coming back keeps sort/filter/selection). */
const saved = new Map<string, TableState>();

interface Entry {
  row: RunRow;
  /** Lowercased text that search matches against. */
  text: string;
}

type Item = { kind: "group"; name: string; count: number } | { kind: "row"; e: Entry };

function haystack(r: RunRow): string {
  const parts: string[] = [r.name, r.id, r.group, r.job_type, r.sweep, r.notes, r.state, ...r.tags];
  for (const [k, v] of Object.entries(r.config ?? {})) parts.push(`${k}=${fmtValue(v)}`);
  for (const [k, v] of Object.entries(r.summary ?? {})) parts.push(`${k}=${fmtValue(v)}`);
  return parts.join("\u0001").toLowerCase();
}

function colValue(r: RunRow, col: string): Scalar {
  switch (col) {
    case "name":
      return r.name || r.id;
    case "state":
      return r.state;
    case "created":
      return r.created_us;
    case "duration":
      return r.duration_s;
    case "tags":
      return r.tags.join(", ");
    case "group":
      return r.group;
  }
  if (col.startsWith("config:")) return r.config?.[col.slice(7)] ?? null;
  if (col.startsWith("summary:")) return r.summary?.[col.slice(8)] ?? null;
  return null;
}

/** NaN sorts with the missing values (last); ±inf as numbers. */
function sortKey(v: Scalar): Scalar {
  if (v === "NaN") return null;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return v;
}

function colLabel(col: string): string {
  if (col.startsWith("config:")) return `<span class="pfx">config.</span>${esc(col.slice(7))}`;
  if (col.startsWith("summary:")) return esc(col.slice(8));
  return esc(FIXED_LABEL[col] ?? col);
}

function columnsKey(project: string) {
  return `tracklab.columns.${project}`;
}

export async function renderRunsPage(page: Page, wanted: string | null): Promise<void> {
  setCrumbs([["Runs"]]);
  let projects: Project[];
  try {
    projects = await api.projects(page.signal);
  } catch (e) {
    return page.fail(e);
  }
  if (!page.alive) return;
  const project = wanted ?? projects[0]?.name ?? "";
  if (project && !projects.some((p) => p.name === project))
    projects.push({ name: project, runs: 0, running: 0, last_created_us: 0 });
  if (project) setCrumbs([["Runs", "#/"], [project]]);

  const st: TableState = saved.get(project) ?? {
    sort: { col: "created", desc: true },
    search: "",
    state: "",
    groupBy: "",
    collapsed: new Set(),
    selected: new Set(),
  };
  saved.set(project, st);
  let custom: string[] | null = null;
  try {
    const c = localStorage.getItem(columnsKey(project));
    if (c) custom = JSON.parse(c) as string[];
  } catch {
    /* no storage */
  }

  const root = h("div", "runs-page");
  root.innerHTML = `
    <div class="toolbar">
      <label class="field">Project <select data-testid="project-select">${projects
        .map(
          (p) =>
            `<option value="${esc(p.name)}"${p.name === project ? " selected" : ""}>${esc(p.name)} (${p.runs}${
              p.running ? `, ${p.running} running` : ""
            })</option>`,
        )
        .join("")}</select></label>
      <input type="search" class="search" data-testid="search" placeholder="Search name, tags, config, summary…" value="${esc(st.search)}">
      <label class="field">State <select data-testid="state-filter">
        ${["", "running", "finished", "failed", "crashed"]
          .map((s) => `<option value="${s}"${s === st.state ? " selected" : ""}>${s || "all"}</option>`)
          .join("")}</select></label>
      <label class="field">Group by <select data-testid="group-by">
        ${[
          ["", "none"],
          ["group", "group"],
          ["job_type", "job type"],
          ["sweep", "sweep"],
        ]
          .map(([v, l]) => `<option value="${v}"${v === st.groupBy ? " selected" : ""}>${l}</option>`)
          .join("")}</select></label>
      <span class="picker-anchor"><button class="btn" data-testid="columns-button">Columns ▾</button></span>
      <span class="spacer"></span>
      <span class="count muted"></span>
      <button class="btn primary" data-testid="compare-button" disabled>Compare</button>
    </div>
    <div class="table-wrap"><table class="runs" data-testid="runs-table"><thead></thead><tbody></tbody></table></div>`;
  page.root.appendChild(root);

  const q = <T extends HTMLElement>(sel: string) => root.querySelector(sel) as T;
  const wrap = q<HTMLElement>(".table-wrap");
  const thead = q<HTMLElement>("thead");
  const tbody = q<HTMLElement>("tbody");
  const countEl = q<HTMLElement>(".count");
  const compareBtn = q<HTMLButtonElement>('[data-testid="compare-button"]');

  const entries = new Map<string, Entry>();
  let columns: string[] = [];
  let items: Item[] = [];
  let win = { start: 0, end: 0 };

  const setRows = (rows: RunRow[]) => {
    entries.clear();
    for (const r of rows) if (!r.deleted) entries.set(r.id, { row: r, text: haystack(r) });
  };

  const allKeys = () => {
    const cfg = new Set<string>();
    const sum = new Set<string>();
    for (const { row } of entries.values()) {
      for (const k of Object.keys(row.config ?? {})) cfg.add(k);
      for (const k of Object.keys(row.summary ?? {})) sum.add(k);
    }
    const sort = (s: Set<string>) => [...s].sort((a, b) => a.localeCompare(b));
    return { config: sort(cfg), summary: sort(sum) };
  };

  const defaultColumns = (): string[] => {
    const counts = new Map<string, number>();
    for (const { row } of entries.values())
      for (const [k, v] of Object.entries(row.summary ?? {}))
        if (!k.startsWith("_") && (typeof v === "number" || v === "NaN" || v === "Infinity" || v === "-Infinity"))
          counts.set(k, (counts.get(k) ?? 0) + 1);
    return [...counts]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, DEFAULT_SUMMARY_COLS)
      .map(([k]) => `summary:${k}`);
  };

  const computeColumns = () => [...FIXED, ...(custom ?? defaultColumns())];

  const computeItems = (): Item[] => {
    const terms = st.search.toLowerCase().split(/\s+/).filter((t) => t !== "");
    const rows: Entry[] = [];
    for (const e of entries.values()) {
      if (st.state && e.row.state !== st.state) continue;
      if (terms.length && !terms.every((t) => e.text.includes(t))) continue;
      rows.push(e);
    }
    const { col, desc } = st.sort;
    const vals = new Map(rows.map((e) => [e, sortKey(colValue(e.row, col))]));
    rows.sort((a, b) => {
      const va = vals.get(a);
      const vb = vals.get(b);
      const missA = va === null || va === undefined || va === "";
      const missB = vb === null || vb === undefined || vb === "";
      if (missA || missB) return missA === missB ? b.row.created_us - a.row.created_us : missA ? 1 : -1;
      const c = cmpValues(va, vb);
      return (desc ? -c : c) || b.row.created_us - a.row.created_us;
    });
    if (!st.groupBy) return rows.map((e) => ({ kind: "row", e }));
    const groups = new Map<string, Entry[]>();
    for (const e of rows) {
      const g = st.groupBy === "group" ? e.row.group : st.groupBy === "sweep" ? e.row.sweep : e.row.job_type;
      const list = groups.get(g);
      if (list) list.push(e);
      else groups.set(g, [e]);
    }
    const names = [...groups.keys()].sort((a, b) =>
      a === "" ? 1 : b === "" ? -1 : a.localeCompare(b, undefined, { numeric: true }),
    );
    const out: Item[] = [];
    for (const name of names) {
      const list = groups.get(name) ?? [];
      out.push({ kind: "group", name, count: list.length });
      if (!st.collapsed.has(name)) for (const e of list) out.push({ kind: "row", e });
    }
    return out;
  };

  const cellHtml = (r: RunRow, col: string): string => {
    switch (col) {
      case "name":
        return `<td class="c-name"><a href="#/run/${encodeURIComponent(r.id)}" title="${esc(r.id)}">${esc(r.name || r.id)}</a>${
          r.sweep
            ? ` <a class="tag sweep-tag" href="${esc(sweepHref(r.sweep))}" title="${esc(`sweep ${r.sweep}`)}" data-testid="sweep-badge">sweep ${esc(r.sweep)}</a>`
            : ""
        }</td>`;
      case "state":
        return `<td data-testid="state">${stateBadge(r.state)}</td>`;
      case "created":
        return `<td class="c-time">${esc(fmtTime(r.created_us))}</td>`;
      case "duration":
        return `<td class="num">${esc(fmtDuration(r.duration_s))}</td>`;
      case "tags":
        return `<td class="c-tags">${r.tags.map((t) => `<span class="tag">${esc(t)}</span>`).join("")}</td>`;
      case "group":
        return `<td>${esc(r.group)}</td>`;
    }
    const v = colValue(r, col);
    const text = fmtValue(v);
    const isNum = typeof v === "number" || v === "NaN" || v === "Infinity" || v === "-Infinity";
    return `<td class="${isNum ? "num" : ""}" title="${esc(text)}">${esc(text)}</td>`;
  };

  const rowHtml = (it: Item): string => {
    if (it.kind === "group") {
      const open = !st.collapsed.has(it.name);
      return `<tr class="group-row" data-group="${esc(it.name)}"><td colspan="${columns.length + 1}"><span class="caret">${
        open ? "▾" : "▸"
      }</span> ${
        it.name ? `${st.groupBy === "sweep" ? "sweep " : ""}${esc(it.name)}` : '<span class="muted">(none)</span>'
      } <span class="muted">${it.count}</span></td></tr>`;
    }
    const r = it.e.row;
    const sel = st.selected.has(r.id);
    return `<tr data-run-id="${esc(r.id)}"${sel ? ' class="sel"' : ""}><td class="c-sel"><input type="checkbox" data-testid="select-run"${
      sel ? " checked" : ""
    }></td>${columns.map((c) => cellHtml(r, c)).join("")}</tr>`;
  };

  const renderHead = () => {
    const arrow = (c: string) => (st.sort.col === c ? (st.sort.desc ? " ▼" : " ▲") : "");
    thead.innerHTML = `<tr><th class="c-sel"><input type="checkbox" class="select-all" title="select all shown"></th>${columns
      .map((c) => `<th data-col="${esc(c)}" class="sortable${st.sort.col === c ? " sorted" : ""}">${colLabel(c)}${arrow(c)}</th>`)
      .join("")}</tr>`;
  };

  const itemKey = (it: Item) => (it.kind === "group" ? `g:${it.name}:${it.count}` : it.e.row.id);

  const windowFor = (n: number) => {
    if (n <= WINDOW_ABOVE) return { start: 0, end: n };
    const visible = Math.ceil(Math.max(wrap.clientHeight, window.innerHeight) / ROW_H);
    const first = Math.min(Math.floor(wrap.scrollTop / ROW_H), Math.max(0, n - visible));
    return { start: Math.max(0, first - 30), end: Math.min(n, first + visible + 30) };
  };

  const renderBody = () => {
    win = windowFor(items.length);
    const top = win.start * ROW_H;
    const bottom = (items.length - win.end) * ROW_H;
    let html = top ? `<tr class="spacer" style="height:${top}px"></tr>` : "";
    for (let i = win.start; i < win.end; i++) html += rowHtml(items[i] as Item);
    if (bottom) html += `<tr class="spacer" style="height:${bottom}px"></tr>`;
    if (items.length === 0)
      html = `<tr class="empty"><td colspan="${columns.length + 1}">${
        entries.size === 0 ? (project ? "No runs in this project yet." : "No runs yet: log one with the Python client.") : "No runs match."
      }</td></tr>`;
    tbody.innerHTML = html;
    updateCounts();
  };

  const updateCounts = () => {
    const shown = items.filter((i) => i.kind === "row").length;
    const matching = st.groupBy ? items.reduce((n, i) => n + (i.kind === "group" ? i.count : 0), 0) : shown;
    countEl.textContent = `${matching} of ${entries.size} runs${st.selected.size ? ` · ${st.selected.size} selected` : ""}`;
    for (const id of st.selected) if (!entries.has(id)) st.selected.delete(id);
    compareBtn.disabled = st.selected.size < 2;
    compareBtn.textContent = st.selected.size >= 2 ? `Compare (${st.selected.size})` : "Compare";
    const all = thead.querySelector<HTMLInputElement>(".select-all");
    if (all) {
      const rowIds = items.flatMap((i) => (i.kind === "row" ? [i.e.row.id] : []));
      const n = rowIds.filter((id) => st.selected.has(id)).length;
      all.checked = n > 0 && n === rowIds.length;
      all.indeterminate = n > 0 && n < rowIds.length;
    }
  };

  const renderAll = () => {
    columns = computeColumns();
    items = computeItems();
    renderHead();
    renderBody();
  };

  // Live updates, batched: rows that keep their place are patched in place.
  const dirty = new Set<string>();
  let flushTimer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    flushTimer = null;
    const newCols = computeColumns();
    const newItems = computeItems();
    const sameCols = newCols.length === columns.length && newCols.every((c, i) => c === columns[i]);
    const sameOrder = newItems.length === items.length && newItems.every((it, i) => itemKey(it) === itemKey(items[i] as Item));
    items = newItems;
    if (!sameCols) {
      columns = newCols;
      renderHead();
      renderBody();
    } else if (!sameOrder) {
      renderBody();
    } else {
      for (const id of dirty) {
        const i = items.findIndex((it) => it.kind === "row" && it.e.row.id === id);
        if (i < win.start || i >= win.end) continue;
        const tr = tbody.querySelector(`tr[data-run-id="${CSS.escape(id)}"]`);
        if (tr) tr.outerHTML = rowHtml(items[i] as Item);
      }
      updateCounts();
    }
    dirty.clear();
  };
  const schedule = (id: string) => {
    dirty.add(id);
    flushTimer ??= setTimeout(flush, 100);
  };
  page.onDispose(() => {
    if (flushTimer) clearTimeout(flushTimer);
  });

  // Controls.
  q<HTMLSelectElement>('[data-testid="project-select"]').addEventListener("change", (e) => {
    location.hash = `#/p/${encodeURIComponent((e.target as HTMLSelectElement).value)}`;
  });
  let searchTimer: ReturnType<typeof setTimeout> | null = null;
  q<HTMLInputElement>('[data-testid="search"]').addEventListener("input", (e) => {
    st.search = (e.target as HTMLInputElement).value;
    if (searchTimer) clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      wrap.scrollTop = 0;
      items = computeItems();
      renderBody();
    }, 60);
  });
  q<HTMLSelectElement>('[data-testid="state-filter"]').addEventListener("change", (e) => {
    st.state = (e.target as HTMLSelectElement).value;
    wrap.scrollTop = 0;
    items = computeItems();
    renderBody();
  });
  q<HTMLSelectElement>('[data-testid="group-by"]').addEventListener("change", (e) => {
    st.groupBy = (e.target as HTMLSelectElement).value as TableState["groupBy"];
    st.collapsed.clear();
    wrap.scrollTop = 0;
    items = computeItems();
    renderBody();
  });
  thead.addEventListener("click", (e) => {
    const t = e.target as HTMLElement;
    if (t.classList.contains("select-all")) {
      const on = (t as HTMLInputElement).checked;
      for (const it of items) if (it.kind === "row") on ? st.selected.add(it.e.row.id) : st.selected.delete(it.e.row.id);
      renderBody();
      return;
    }
    const th = t.closest<HTMLElement>("th[data-col]");
    if (!th) return;
    const col = th.dataset.col as string;
    st.sort = st.sort.col === col ? { col, desc: !st.sort.desc } : { col, desc: col === "created" };
    items = computeItems();
    renderHead();
    renderBody();
  });
  tbody.addEventListener("change", (e) => {
    const t = e.target as HTMLInputElement;
    if (t.dataset.testid !== "select-run") return;
    const tr = t.closest<HTMLElement>("tr[data-run-id]");
    const id = tr?.dataset.runId;
    if (!id || !tr) return;
    if (t.checked) st.selected.add(id);
    else st.selected.delete(id);
    tr.classList.toggle("sel", t.checked);
    updateCounts();
  });
  tbody.addEventListener("click", (e) => {
    const g = (e.target as HTMLElement).closest<HTMLElement>("tr.group-row");
    if (!g) return;
    const name = g.dataset.group ?? "";
    if (st.collapsed.has(name)) st.collapsed.delete(name);
    else st.collapsed.add(name);
    items = computeItems();
    renderBody();
  });
  compareBtn.addEventListener("click", () => {
    if (st.selected.size >= 2) location.hash = `#/compare/${[...st.selected].map(encodeURIComponent).join(",")}`;
  });
  let scrollQueued = false;
  wrap.addEventListener("scroll", () => {
    if (items.length <= WINDOW_ABOVE || scrollQueued) return;
    scrollQueued = true;
    requestAnimationFrame(() => {
      scrollQueued = false;
      const w = windowFor(items.length);
      if (w.start !== win.start || w.end !== win.end) renderBody();
    });
  });

  // Column picker.
  const anchor = q<HTMLElement>(".picker-anchor");
  let picker: HTMLElement | null = null;
  const closePicker = () => {
    picker?.remove();
    picker = null;
  };
  const saveColumns = () => {
    try {
      if (custom) localStorage.setItem(columnsKey(project), JSON.stringify(custom));
      else localStorage.removeItem(columnsKey(project));
    } catch {
      /* no storage */
    }
  };
  const openPicker = () => {
    const keys = allKeys();
    const chosen = new Set(columns);
    const box = (col: string, label: string) =>
      `<label class="pick" data-label="${esc(label.toLowerCase())}"><input type="checkbox" data-col="${esc(col)}"${
        chosen.has(col) ? " checked" : ""
      }> ${esc(label)}</label>`;
    picker = h(
      "div",
      "col-picker",
      `<div class="picker-top"><input type="search" class="picker-filter" placeholder="Filter keys…"><button class="btn link reset">default</button></div>
       <div class="picker-list">
         <div class="picker-group">summary</div>${keys.summary.map((k) => box(`summary:${k}`, k)).join("") || '<div class="muted">none</div>'}
         <div class="picker-group">config</div>${keys.config.map((k) => box(`config:${k}`, k)).join("") || '<div class="muted">none</div>'}
       </div>`,
    );
    picker.dataset.testid = "columns-picker";
    anchor.appendChild(picker);
    const filter = picker.querySelector(".picker-filter") as HTMLInputElement;
    filter.focus();
    filter.addEventListener("input", () => {
      const t = filter.value.toLowerCase();
      picker?.querySelectorAll<HTMLElement>(".pick").forEach((el) => {
        el.hidden = !!t && !(el.dataset.label ?? "").includes(t);
      });
    });
    picker.querySelector(".reset")?.addEventListener("click", () => {
      custom = null;
      saveColumns();
      closePicker();
      renderAll();
    });
    picker.addEventListener("change", (e) => {
      const t = e.target as HTMLInputElement;
      const col = t.dataset.col;
      if (!col) return;
      const extra = columns.filter((c) => !(FIXED as readonly string[]).includes(c));
      custom = t.checked ? [...extra.filter((c) => c !== col), col] : extra.filter((c) => c !== col);
      saveColumns();
      renderAll();
    });
  };
  q('[data-testid="columns-button"]').addEventListener("click", (e) => {
    e.stopPropagation();
    if (picker) closePicker();
    else openPicker();
  });
  const outside = (e: MouseEvent) => {
    if (picker && !anchor.contains(e.target as Node)) closePicker();
  };
  document.addEventListener("click", outside);
  page.onDispose(() => document.removeEventListener("click", outside));

  // Data. The event stream opens first; rows it brings before the list
  // arrives are applied on top of the list (they are newer).
  let loaded = false;
  const early = new Map<string, RunRow | null>();
  const upsert = (row: RunRow) => {
    if (row.project !== project) return;
    if (!loaded) {
      early.set(row.id, row);
      return;
    }
    if (row.deleted) entries.delete(row.id);
    else entries.set(row.id, { row, text: haystack(row) });
    schedule(row.id);
  };
  const remove = (id: string) => {
    if (!loaded) {
      early.set(id, null);
      return;
    }
    entries.delete(id);
    st.selected.delete(id);
    schedule(id);
  };
  const load = async () => {
    loaded = false;
    const rows = project ? await api.runs(project, page.signal) : [];
    if (!page.alive) return;
    setRows(rows);
    loaded = true;
    for (const [id, row] of early) {
      if (row && !row.deleted) entries.set(id, { row, text: haystack(row) });
      else entries.delete(id);
    }
    early.clear();
    renderAll();
  };
  if (project)
    page.onDispose(
      subscribe(project, {
        run: upsert,
        removed: remove,
        reconnect: () => void load().catch((e) => console.error(e)),
      }),
    );
  try {
    await load();
  } catch (e) {
    return page.fail(e);
  }
  page.ready();
  if (!project) {
    // Nothing logged yet: show the first project as soon as a run appears.
    page.onDispose(subscribe(null, { run: () => window.dispatchEvent(new HashChangeEvent("hashchange")) }));
  }
}
