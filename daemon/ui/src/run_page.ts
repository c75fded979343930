// #/run/<id>: one run's header, metadata, config, summary, notes and tags,
// warnings, artifacts, media, charts and console; live while it runs.

import { api, subscribe, type Json, type RunDoc, type RunRow } from "./api";
import { color, esc, flatten, fmtDuration, fmtTime, fmtValue, shellQuote, stateBadge, sweepHref } from "./format";
import { asMedia, isMedia, mediaLabel } from "./media";
import { MediaSet } from "./media_panels";
import { charted, chartedSystem, metricDef } from "./metrics";
import { h, isAbort, notice, setCrumbs, throttle, type Page } from "./page";
import { PanelSet, sectionOf } from "./panels";
import { renderRunArtifacts } from "./run_artifacts";

/** Console lines shown at most (older ones are dropped from the page). */
const CONSOLE_KEEP = 20000;

export async function renderRunPage(page: Page, id: string): Promise<void> {
  setCrumbs([["Runs", "#/"], [id]]);
  let doc: RunDoc;
  try {
    doc = await api.run(id, page.signal);
  } catch (e) {
    return page.fail(e);
  }
  if (!page.alive) return;
  setCrumbs([["Runs", "#/"], [doc.project, `#/p/${encodeURIComponent(doc.project)}`], [doc.name || doc.id]]);

  const root = h("div", "run-page");
  root.dataset.testid = "run-page";
  root.innerHTML = `
    <div class="run-header"></div>
    <div class="run-grid">
      <section class="card meta-card"><h3>Overview</h3><div class="meta" data-testid="metadata"></div></section>
      <section class="card"><h3>Config</h3><div class="scroll"><table class="kv" data-testid="config"></table></div></section>
      <section class="card"><h3>Summary</h3><div class="scroll"><table class="kv" data-testid="summary"></table></div></section>
      <section class="card edit-card"><h3>Notes &amp; tags</h3>
        <label>Notes<textarea data-testid="notes" rows="4" placeholder="What is this run about?"></textarea></label>
        <label>Tags <span class="muted">(comma-separated)</span><input data-testid="tags" type="text" placeholder="baseline, ablation"></label>
        <div class="row"><button class="btn primary" data-testid="save-run">Save</button><span class="save-status muted"></span></div>
      </section>
    </div>
    <div class="warnings"></div>
    <section class="card artifacts-card" data-testid="artifacts" hidden></section>
    <div class="media"></div>
    <div class="charts"></div>
    <section class="card console-card" hidden><h3>Console <span class="muted console-count"></span></h3>
      <pre class="console" data-testid="console"></pre></section>`;
  page.root.appendChild(root);

  const q = <T extends HTMLElement>(sel: string) => root.querySelector(sel) as T;
  const notes = q<HTMLTextAreaElement>('[data-testid="notes"]');
  const tags = q<HTMLInputElement>('[data-testid="tags"]');
  const saveStatus = q<HTMLElement>(".save-status");
  let dirty = false;
  let liveSummary: Record<string, Json> = {};

  const renderHeader = (r: Pick<RunRow, "name" | "id" | "state" | "project" | "created_us" | "duration_s" | "steps" | "tags" | "group" | "job_type" | "sweep" | "exit_code">) => {
    const chips = r.tags.map((t) => `<span class="tag">${esc(t)}</span>`).join("");
    const exit = r.state === "failed" || r.state === "crashed" ? `<span>exit ${esc(r.exit_code)}</span>` : "";
    q(".run-header").innerHTML = `
      <h1>${esc(r.name || r.id)}</h1>${stateBadge(r.state, "run-state")}
      <div class="facts">
        <span class="mono" title="run id">${esc(r.id)}</span>
        <span>project <a href="#/p/${encodeURIComponent(r.project)}">${esc(r.project)}</a></span>
        <span title="created">${esc(fmtTime(r.created_us))}</span>
        <span title="duration">${esc(fmtDuration(r.duration_s))}</span>
        <span>${esc(r.steps)} steps</span>
        ${r.group ? `<span>group ${esc(r.group)}</span>` : ""}
        ${r.job_type ? `<span>job ${esc(r.job_type)}</span>` : ""}
        ${r.sweep ? `<span>sweep <a class="mono" href="${esc(sweepHref(r.sweep))}" data-testid="run-sweep">${esc(r.sweep)}</a></span>` : ""}
        ${exit}${chips}
      </div>`;
  };

  const renderMeta = (d: RunDoc) => {
    const rows: [string, string][] = [];
    const g = d.git;
    if (g && (g.commit || g.branch || g.remote)) {
      const dirtyMark = g.dirty ? ' <span class="badge st-crashed">dirty</span>' : "";
      rows.push(["git", `<span class="mono" title="${esc(g.commit)}">${esc(g.commit.slice(0, 12))}</span> ${esc(g.branch)}${dirtyMark}`]);
      if (g.remote) rows.push(["remote", `<span class="mono">${esc(g.remote)}</span>`]);
    }
    if (d.host) rows.push(["host", esc(d.host)]);
    if (d.user) rows.push(["user", esc(d.user)]);
    if (d.program || d.args?.length) {
      const prog = d.program && /\.py$/.test(d.program) && d.python ? ["python", d.program] : d.program ? [d.program] : [];
      const cmd = [...prog, ...(d.args ?? [])].map(shellQuote).join(" ");
      rows.push(["command", `<code class="cmd">${esc(cmd)}</code>`]);
    }
    if (d.python) rows.push(["python", esc(d.python)]);
    if (d.resumed) rows.push(["resumed", "yes"]);
    if (d.files?.length) rows.push(["files", d.files.map((f) => `<span class="mono">${esc(f)}</span>`).join(", ")]);
    let html = `<table class="kv">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join("")}</table>`;
    if (d.requirements) {
      const n = d.requirements.split("\n").filter((l) => l.trim() !== "").length;
      html += `<details class="reqs"><summary>requirements.txt (${n})</summary><pre>${esc(d.requirements)}</pre></details>`;
    }
    if (rows.length === 0 && !d.requirements) html = `<p class="muted">No metadata recorded.</p>`;
    q('[data-testid="metadata"]').innerHTML = html;
  };

  const cellText = (v: Json) => {
    const m = asMedia(v);
    return m ? mediaLabel(m) : fmtValue(v);
  };
  const kvRows = (pairs: [string, Json][]) =>
    pairs.length === 0
      ? `<tr><td class="muted">(empty)</td></tr>`
      : pairs.map(([k, v]) => `<tr><th title="${esc(k)}">${esc(k)}</th><td>${esc(cellText(v))}</td></tr>`).join("");

  const renderSummary = (d: RunDoc) => {
    // Media values stay one row each ("image 8×8"), not their fields.
    const m = new Map(flatten(d.summary, isMedia));
    for (const [k, v] of Object.entries(liveSummary)) m.set(k, v);
    const pairs = [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    q('[data-testid="summary"]').innerHTML = kvRows(pairs);
  };

  const renderWarnings = (d: RunDoc) => {
    const w = d.warnings ?? [];
    const el = q(".warnings");
    if (!d.dropped_steps && w.length === 0) {
      el.innerHTML = "";
      return;
    }
    el.innerHTML = `<div class="message warn" data-testid="warnings"><b>Warnings</b>${
      d.dropped_steps ? ` · ${esc(d.dropped_steps)} dropped steps` : ""
    }${w.length ? `<ul>${w.map((x) => `<li>${esc(x)}</li>`).join("")}</ul>` : ""}</div>`;
  };

  const renderEditable = (d: RunDoc) => {
    if (dirty) return;
    notes.value = d.notes ?? "";
    tags.value = (d.tags ?? []).join(", ");
  };

  const renderAll = (d: RunDoc) => {
    renderHeader(d);
    renderMeta(d);
    q('[data-testid="config"]').innerHTML = kvRows(flatten(d.config));
    renderSummary(d);
    renderWarnings(d);
    renderEditable(d);
  };
  renderAll(doc);

  notes.addEventListener("input", () => (dirty = true));
  tags.addEventListener("input", () => (dirty = true));
  q('[data-testid="save-run"]').addEventListener("click", async () => {
    const body = {
      notes: notes.value,
      tags: tags.value
        .split(",")
        .map((t) => t.trim())
        .filter((t) => t !== ""),
    };
    saveStatus.textContent = "Saving…";
    try {
      doc = await api.patchRun(id, body);
      dirty = false;
      saveStatus.textContent = "Saved";
      renderAll(doc);
    } catch (e) {
      saveStatus.textContent = `Not saved: ${e instanceof Error ? e.message : String(e)}`;
    }
  });

  // Charts.
  const run = { id: doc.id, label: doc.name || doc.id, color: color(0) };
  const panels = new PanelSet(page, q(".charts"), {
    xKey: "",
    // System metrics against time since the start; others against steps,
    // or their define_metric step metric.
    keyX: (key) => (key.startsWith("system/") ? "_runtime" : (metricDef(doc.metrics, key)?.step_metric ?? "")),
    runStart: () => doc.created_us / 1e6,
    logY: false,
    smoothing: 0,
  });
  const addCharts = (d: RunDoc): string[] => {
    const system = new Set(d.system_keys ?? []);
    const added: string[] = [];
    for (const key of [...(d.history_keys ?? []), ...(d.system_keys ?? [])]) {
      if (panels.has(key) || (system.has(key) ? !chartedSystem(key) : !charted(d, key))) continue;
      panels.add(key, sectionOf(key, system.has(key)), [run]);
      added.push(key);
    }
    return added;
  };
  addCharts(doc);
  // Media: keys whose summary value has `_type` (they get no line chart).
  const media = new MediaSet(page, q(".media"), doc.id);
  media.sync(doc);
  if (panels.size === 0 && media.size === 0)
    q(".charts").innerHTML = `<p class="muted empty-charts">No metrics logged yet.</p>`;

  // Console.
  const consoleCard = q(".console-card");
  const pre = q<HTMLPreElement>('[data-testid="console"]');
  let consoleEnd = 0;
  let consoleBusy = false;
  const loadConsole = async (initial: boolean) => {
    if (consoleBusy) return;
    consoleBusy = true;
    try {
      const offset = initial ? Math.max(0, doc.console_lines - 5000) : consoleEnd;
      const res = await api.console(id, offset, initial ? 5000 : 10000, page.signal);
      if (!page.alive) return;
      if (res.total > 0) consoleCard.hidden = false;
      const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      const html = res.lines
        .map((l) => (l.stream === "stderr" ? `<span class="stderr">${esc(l.line)}</span>\n` : `${esc(l.line)}\n`))
        .join("");
      if (initial && offset > 0) pre.innerHTML = `<span class="muted">… ${offset} earlier lines not shown</span>\n`;
      pre.insertAdjacentHTML("beforeend", html);
      while (pre.childNodes.length > CONSOLE_KEEP * 2 && pre.firstChild) pre.removeChild(pre.firstChild);
      consoleEnd = offset + res.lines.length;
      q(".console-count").textContent = `${res.total} lines`;
      if (atBottom || initial) pre.scrollTop = pre.scrollHeight;
    } finally {
      consoleBusy = false;
    }
  };

  // Artifacts (a daemon without the endpoint leaves the card hidden).
  const loadArtifacts = async () => {
    try {
      const arts = await api.runArtifacts(id, page.signal);
      if (page.alive) renderRunArtifacts(q(".artifacts-card"), arts, id, doc.project);
    } catch (e) {
      if (!isAbort(e)) console.warn("artifacts:", e);
    }
  };

  try {
    await Promise.all([
      panels.loadAll(),
      media.load(),
      doc.console_lines > 0 ? loadConsole(true) : Promise.resolve(),
      loadArtifacts(),
    ]);
  } catch (e) {
    if (isAbort(e)) return;
    notice(root, e);
  }
  if (!page.alive) return;
  page.ready();

  // Live: new points only, header/summary from the event row, the run
  // document now and then (new keys, console, warnings, metadata).
  const refreshDoc = throttle(2000, async () => {
    try {
      const d = await api.run(id, page.signal);
      if (!page.alive) return;
      doc = d;
      liveSummary = {};
      renderAll(d);
      const added = addCharts(d);
      const addedMedia = media.sync(d);
      if (added.length || addedMedia.length) q(".empty-charts")?.remove();
      if (added.length) await panels.loadRun(id, added);
      if (addedMedia.length) await media.load(addedMedia);
      if (d.console_lines > consoleEnd) await loadConsole(consoleEnd === 0);
      await loadArtifacts();
    } catch (e) {
      if (!isAbort(e)) console.error(e);
    }
  });
  const onRun = (row: RunRow) => {
    if (row.id !== id) return;
    renderHeader(row);
    liveSummary = row.summary as Record<string, Json>;
    renderSummary(doc);
    void panels.append(id);
    void media.append();
    refreshDoc();
  };
  page.onDispose(
    subscribe(doc.project, {
      run: onRun,
      reconnect: () => {
        void panels.append(id);
        void media.append();
        refreshDoc();
      },
      removed: (rid) => {
        if (rid === id) notice(root, new Error("This run was removed."));
      },
    }),
  );
  // Steps logged between the first load and the stream opening.
  if (doc.state === "running") {
    void panels.append(id);
    void media.append();
  }
}
