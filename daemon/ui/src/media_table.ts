// Table panels (`table-file`): the table file fetched and shown as an HTML
// table; a click on a column header sorts by it (numbers numerically,
// anything else as text; again to reverse; missing values last).

import { fileUrl, type Json } from "./api";
import { fmtNum } from "./format";
import { asMedia, asTable, el, loadJsonFile, mediaNote, numOf, str, type MediaValue, type TableData } from "./media";

/** Rows drawn at most (the sort still sees every row). */
const MAX_ROWS = 1000;

export async function renderTableFile(body: HTMLElement, v: MediaValue, runId: string, signal: AbortSignal): Promise<void> {
  const path = str(v.path);
  if (!path) {
    body.append(mediaNote("this table has no file"));
    return;
  }
  const t = asTable(await loadJsonFile(runId, path, signal));
  body.append(tableView(t, runId));
}

const missing = (v: Json | undefined) => v === null || v === undefined || v === "";

/** A column sorts numerically when every value in it is a number (or NaN/inf). */
function numericColumn(t: TableData, c: number): boolean {
  let any = false;
  for (const r of t.data) {
    const v = r[c];
    if (missing(v)) continue;
    if (numOf(v) === null && typeof v !== "boolean") return false;
    any = true;
  }
  return any;
}

function sortKey(v: Json | undefined, numeric: boolean): number | string | null {
  if (missing(v)) return null;
  if (numeric) {
    const n = typeof v === "boolean" ? +v : numOf(v);
    return n === null || Number.isNaN(n) ? null : n;
  }
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** The sorted row order for column `c`. */
export function sortRows(t: TableData, c: number, dir: 1 | -1): number[] {
  const numeric = numericColumn(t, c);
  const keys = t.data.map((r) => sortKey(r[c], numeric));
  const idx = t.data.map((_, i) => i);
  const coll = new Intl.Collator(undefined, { numeric: true });
  idx.sort((a, b) => {
    const ka = keys[a] ?? null;
    const kb = keys[b] ?? null;
    if (ka === null || kb === null) return ka === kb ? a - b : ka === null ? 1 : -1;
    const d = typeof ka === "number" && typeof kb === "number" ? ka - kb : coll.compare(String(ka), String(kb));
    return d * dir || a - b;
  });
  return idx;
}

/** One cell: scalars as text, a stored image as a thumbnail, other objects as JSON. */
function cell(v: Json | undefined, runId: string): HTMLElement {
  const td = el("td");
  if (missing(v)) return td;
  const m = asMedia(v as Json);
  if (m && m._type === "image-file" && str(m.path)) {
    td.append(el("img", { class: "media-thumb", src: fileUrl(runId, str(m.path)), alt: str(m.caption), loading: "lazy" }));
    return td;
  }
  const n = numOf(v);
  if (n !== null) {
    td.className = "num";
    td.textContent = Number.isInteger(n) ? String(n) : fmtNum(n);
    td.title = String(v);
  } else if (typeof v === "string") {
    td.textContent = v;
  } else if (typeof v === "boolean") {
    td.textContent = v ? "true" : "false";
  } else {
    const s = JSON.stringify(v);
    td.textContent = s.length > 200 ? `${s.slice(0, 200)}…` : s;
    td.title = s.length > 2000 ? `${s.slice(0, 2000)}…` : s;
  }
  return td;
}

/** The table, sortable by clicking a header (`th[data-col]`, `data-sort` on the sorted one). */
export function tableView(t: TableData, runId: string): HTMLElement {
  const table = el("table", { class: "grid-table media-table", "data-testid": "media-table", "data-rows": t.data.length });
  const head = el("tr");
  const ths = t.columns.map((name, c) => el("th", { class: "sortable", "data-col": c, title: `sort by ${name}`, text: name }));
  head.append(...ths);
  const tbody = el("tbody");
  table.append(el("thead", {}, head), tbody);
  const note = el("div", { class: "muted media-note" });
  let sortCol = -1;
  let dir: 1 | -1 = 1;
  const draw = () => {
    const order = sortCol >= 0 ? sortRows(t, sortCol, dir) : t.data.map((_, i) => i);
    const frag = document.createDocumentFragment();
    for (const i of order.slice(0, MAX_ROWS)) {
      const r = t.data[i] ?? [];
      frag.append(el("tr", {}, ...t.columns.map((_, c) => cell(r[c], runId))));
    }
    tbody.replaceChildren(frag);
    ths.forEach((th, c) => {
      th.classList.toggle("sorted", c === sortCol);
      if (c === sortCol) th.dataset.sort = dir === 1 ? "asc" : "desc";
      else delete th.dataset.sort;
    });
    note.textContent = t.data.length > MAX_ROWS ? `first ${MAX_ROWS} of ${t.data.length} rows` : `${t.data.length} rows`;
  };
  ths.forEach((th, c) =>
    th.addEventListener("click", () => {
      dir = sortCol === c ? (dir === 1 ? -1 : 1) : 1;
      sortCol = c;
      draw();
    }),
  );
  draw();
  return el("div", {}, el("div", { class: "media-table-wrap" }, table), note);
}
