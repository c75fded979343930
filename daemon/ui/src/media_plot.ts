// Chart panels: `plot` (tracklab.plot.line/scatter/bar/histogram/
// line_series: a table file plus which columns to draw) and `plotly-file`
// (a plotly figure's JSON: scatter and bar traces drawn with uPlot, any
// other figure shown as its JSON).

import type { Json } from "./api";
import { asTable, el, loadJsonFile, mediaNote, numOf, str, type MediaValue, type TableData } from "./media";
import { XYChart, type XYSeries, type XYSpec } from "./media_xy";

/** Charts drawn into a panel, destroyed when it redraws. */
export type Destroyers = (() => void)[];

function draw(body: HTMLElement, spec: XYSpec, title: string, destroyers: Destroyers): void {
  if (title) body.append(el("div", { class: "media-sub", text: title }));
  const chart = new XYChart(body, spec);
  destroyers.push(() => chart.destroy());
}

// ---- plot.* charts ----

const fieldsOf = (v: MediaValue): Record<string, string> => {
  const f = v.fields;
  const out: Record<string, string> = {};
  if (f && typeof f === "object" && !Array.isArray(f)) {
    for (const [k, x] of Object.entries(f)) if (typeof x === "string") out[k] = x;
  }
  return out;
};

/** A column's index by name: the first of `names` the table has. */
function column(t: TableData, ...names: (string | undefined)[]): number {
  for (const n of names) {
    if (n === undefined) continue;
    const i = t.columns.indexOf(n);
    if (i >= 0) return i;
  }
  return -1;
}

const colNums = (t: TableData, c: number) => t.data.map((r) => numOf(r[c]));

/** Equal-width bins of the finite values (bar centres and counts). */
export function binValues(values: (number | null)[], nbins?: number): { x: number[]; y: number[] } {
  const vs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (vs.length === 0) return { x: [], y: [] };
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of vs) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const n = nbins ?? Math.max(1, Math.min(30, Math.ceil(Math.sqrt(vs.length))));
  if (hi === lo) return { x: [lo], y: [vs.length] };
  const w = (hi - lo) / n;
  const y = new Array<number>(n).fill(0);
  for (const v of vs) y[Math.min(n - 1, Math.floor((v - lo) / w))]++;
  return { x: y.map((_, i) => lo + w * (i + 0.5)), y };
}

/** Rows grouped by the values of column `g` (-1: one group), in first-seen order. */
function groups(t: TableData, g: number): Map<string, number[]> {
  const out = new Map<string, number[]>();
  t.data.forEach((r, i) => {
    const k = g < 0 ? "" : String(r[g] ?? "");
    if (!out.has(k)) out.set(k, []);
    out.get(k)?.push(i);
  });
  return out;
}

/** The chart a `plot` value asks for, from its table. */
export function plotSpec(v: MediaValue, t: TableData): XYSpec {
  const kind = str(v.kind) || "line";
  const f = fieldsOf(v);
  const need = (i: number, what: string) => {
    if (i < 0) throw new Error(`the table has no ${what} column (columns: ${t.columns.join(", ")})`);
    return i;
  };
  if (kind === "bar") {
    const lc = need(column(t, f.label, "label"), "label");
    const vc = need(column(t, f.value, "value"), "value");
    const cats: string[] = [];
    const x: number[] = [];
    const y = colNums(t, vc);
    for (const r of t.data) {
      const name = String(r[lc] ?? "");
      let i = cats.indexOf(name);
      if (i < 0) i = cats.push(name) - 1;
      x.push(i);
    }
    return {
      series: [{ label: t.columns[vc] ?? "value", mode: "bars", x, y }],
      xLabel: t.columns[lc] ?? "",
      yLabel: t.columns[vc] ?? "",
      categories: cats,
    };
  }
  if (kind === "histogram") {
    const vc = need(column(t, f.value, "value"), "value");
    const b = binValues(colNums(t, vc));
    return { series: [{ label: "count", mode: "bars", ...b }], xLabel: t.columns[vc] ?? "", yLabel: "count" };
  }
  // line, scatter, line_series: x and y columns, lines split by a key column.
  const xc = need(column(t, f.x, f.step, "x", "step"), "x");
  const yc = need(column(t, f.y, f.lineVal, "y", "lineVal"), "y");
  const gc = column(t, f.stroke, f.lineKey, kind === "line_series" ? "lineKey" : undefined);
  const mode = kind === "scatter" ? "points" : "line";
  const series: XYSeries[] = [];
  for (const [name, rows] of groups(t, gc)) {
    series.push({
      label: name || (t.columns[yc] ?? "y"),
      mode,
      x: rows.map((i) => numOf(t.data[i]?.[xc]) ?? NaN),
      y: rows.map((i) => numOf(t.data[i]?.[yc])),
    });
  }
  return { series, xLabel: str(v.xname) || (t.columns[xc] ?? ""), yLabel: gc >= 0 ? "" : (t.columns[yc] ?? "") };
}

export async function renderPlot(
  body: HTMLElement,
  v: MediaValue,
  runId: string,
  signal: AbortSignal,
  destroyers: Destroyers,
): Promise<void> {
  const tableRef = v.table;
  const path = tableRef && typeof tableRef === "object" && !Array.isArray(tableRef) ? str(tableRef.path) : "";
  if (!path) {
    body.append(mediaNote("this chart has no table file"));
    return;
  }
  const t = asTable(await loadJsonFile(runId, path, signal));
  draw(body, plotSpec(v, t), str(v.title), destroyers);
}

// ---- plotly figures ----

const DTYPES: Record<string, [number, (b: ArrayBuffer) => ArrayLike<number>]> = {
  f8: [8, (b) => new Float64Array(b)],
  f4: [4, (b) => new Float32Array(b)],
  i4: [4, (b) => new Int32Array(b)],
  u4: [4, (b) => new Uint32Array(b)],
  i2: [2, (b) => new Int16Array(b)],
  u2: [2, (b) => new Uint16Array(b)],
  i1: [1, (b) => new Int8Array(b)],
  u1: [1, (b) => new Uint8Array(b)],
};

/** A trace's data array: a JSON list, or plotly's `{dtype, bdata}` (base64, 1-D) form. */
function arrayOf(v: Json | undefined): Json[] | null {
  if (Array.isArray(v)) return v;
  if (v && typeof v === "object" && typeof v.bdata === "string" && typeof v.dtype === "string") {
    const t = DTYPES[v.dtype];
    if (!t || (Array.isArray(v.shape) && v.shape.length > 1)) return null;
    const bin = atob(v.bdata);
    const bytes = new Uint8Array(bin.length - (bin.length % t[0]));
    for (let i = 0; i < bytes.length; i++) bytes[i] = bin.charCodeAt(i);
    return Array.from(t[1](bytes.buffer));
  }
  return null;
}

const titleText = (t: Json | undefined): string =>
  typeof t === "string" ? t : t && typeof t === "object" && !Array.isArray(t) ? str(t.text) : "";

const obj = (v: Json | undefined): Record<string, Json> =>
  v && typeof v === "object" && !Array.isArray(v) ? v : {};

/**
 * The figure as uPlot series when every trace is a vertical `scatter` /
 * `scattergl` with numeric x and y, or every trace a vertical `bar`;
 * otherwise null (the panel shows the JSON).
 */
export function plotlySpec(fig: Json): { spec: XYSpec; title: string } | null {
  const f = obj(fig);
  const traces = Array.isArray(fig) ? fig : Array.isArray(f.data) ? f.data : null;
  if (!traces || traces.length === 0) return null;
  const layout = obj(f.layout);
  const series: XYSeries[] = [];
  let cats: string[] | undefined;
  const kinds = new Set<string>();
  for (const [i, raw] of traces.entries()) {
    const t = obj(raw);
    const type = str(t.type) || "scatter";
    if ((type !== "scatter" && type !== "scattergl" && type !== "bar") || str(t.orientation) === "h") return null;
    kinds.add(type === "bar" ? "bar" : "scatter");
    const ys = arrayOf(t.y);
    if (!ys) return null;
    const y = ys.map((v) => numOf(v));
    if (y.some((v, j) => v === null && ys[j] !== null)) return null;
    const xsRaw = t.x === undefined ? ys.map((_, j) => j as Json) : arrayOf(t.x);
    if (!xsRaw) return null;
    const label = str(t.name) || `trace ${i}`;
    if (type === "bar") {
      cats ??= [];
      const c = cats;
      const x = xsRaw.map((v) => {
        const name = typeof v === "string" ? v : JSON.stringify(v);
        const k = c.indexOf(name);
        return k >= 0 ? k : c.push(name) - 1;
      });
      series.push({ label, mode: "bars", x, y });
    } else {
      const x = xsRaw.map((v) => numOf(v));
      if (x.some((v) => v === null)) return null;
      const m = str(t.mode) || (ys.length <= 20 ? "lines+markers" : "lines");
      const mode = m.includes("lines") ? (m.includes("markers") ? "both" : "line") : "points";
      series.push({ label, mode, x: x as number[], y });
    }
  }
  if (kinds.size > 1) return null;
  const axisTitle = (k: string) => titleText(obj(layout[k]).title);
  return {
    spec: { series, xLabel: axisTitle("xaxis"), yLabel: axisTitle("yaxis"), ...(cats ? { categories: cats } : {}) },
    title: titleText(layout.title),
  };
}

/** Characters of figure JSON shown at most. */
const JSON_SHOWN = 200_000;

export async function renderPlotly(
  body: HTMLElement,
  v: MediaValue,
  runId: string,
  signal: AbortSignal,
  destroyers: Destroyers,
): Promise<void> {
  const path = str(v.path);
  if (!path) {
    body.append(mediaNote("this figure has no file"));
    return;
  }
  const fig = await loadJsonFile(runId, path, signal);
  const got = plotlySpec(fig);
  if (got) {
    draw(body, got.spec, got.title, destroyers);
    return;
  }
  const text = JSON.stringify(fig, null, 1);
  body.append(
    mediaNote("This figure has traces the dashboard does not draw (only scatter, line and bar); its JSON:"),
    el(
      "details",
      { class: "media-json", "data-testid": "plotly-json" },
      el("summary", { text: `figure JSON (${text.length} characters)` }),
      el("pre", { text: text.length > JSON_SHOWN ? `${text.slice(0, JSON_SHOWN)}\n…` : text }),
    ),
  );
}
