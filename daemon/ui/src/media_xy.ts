// A small uPlot chart for media (plot.* charts, plotly figures): several
// series, each drawn as a line, points or bars; x numeric or categories.

import uPlot from "uplot";

import { color, fmtNum } from "./format";
import { el } from "./media";

export type XYMode = "line" | "points" | "both" | "bars";

export interface XYSeries {
  label: string;
  mode: XYMode;
  /** x values (category indexes when the chart has categories). */
  x: number[];
  y: (number | null)[];
}

export interface XYSpec {
  series: XYSeries[];
  xLabel: string;
  yLabel: string;
  /** Category names for x = 0, 1, … (bar charts of labels). */
  categories?: string[];
}

/**
 * uPlot's aligned data. When no series repeats an x value: the sorted union
 * of the x values, each series null where it has no point (lines span the
 * gaps). Otherwise (scatter data) every point is a row, rows sorted by x,
 * each series with its values in its own rows and null elsewhere; `rows`
 * says which was done (uPlot then needs an x range a little wider than the
 * data to draw the repeated last x).
 */
export function alignData(series: XYSeries[]): { data: uPlot.AlignedData; rows: boolean } {
  const finite = series.map((s) => {
    const pts: { x: number; y: number | null }[] = [];
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i] as number;
      const y = s.y[i] ?? null;
      if (Number.isFinite(x)) pts.push({ x, y: y !== null && Number.isFinite(y) ? y : null });
    }
    return pts.sort((a, b) => a.x - b.x);
  });
  const repeats = finite.some((pts) => pts.some((p, i) => i > 0 && p.x === pts[i - 1]?.x));
  if (!repeats) {
    const xs = [...new Set(finite.flatMap((pts) => pts.map((p) => p.x)))].sort((a, b) => a - b);
    const at = new Map(xs.map((x, i) => [x, i]));
    const cols = finite.map((pts) => {
      const col = new Array<number | null>(xs.length).fill(null);
      for (const p of pts) col[at.get(p.x) as number] = p.y;
      return col;
    });
    return { data: [xs, ...cols] as uPlot.AlignedData, rows: false };
  }
  const rows = finite.flatMap((pts, s) => pts.map((p) => ({ ...p, s })));
  rows.sort((a, b) => a.x - b.x || a.s - b.s);
  const xs = rows.map((r) => r.x);
  const cols = finite.map((_, s) => rows.map((r) => (r.s === s ? r.y : null)));
  return { data: [xs, ...cols] as uPlot.AlignedData, rows: true };
}

export class XYChart {
  readonly el: HTMLElement;
  private plot: uPlot | null = null;
  private readonly obs: ResizeObserver;

  constructor(parent: HTMLElement, spec: XYSpec) {
    const points = spec.series.reduce((n, s) => n + s.x.length, 0);
    this.el = el("div", {
      class: "media-chart",
      "data-testid": "media-chart",
      "data-points": points,
      "data-series": spec.series.length,
    });
    parent.append(this.el);
    const { data, rows } = alignData(spec.series);
    const cats = spec.categories;
    const bars = uPlot.paths.bars?.({ size: [0.7, 64] });
    const series: uPlot.Series[] = [{ label: spec.xLabel || "x" }];
    spec.series.forEach((s, i) => {
      const c = color(i);
      series.push({
        label: s.label,
        stroke: c,
        width: s.mode === "points" ? 0 : 1.5,
        fill: s.mode === "bars" ? c : undefined,
        spanGaps: true,
        ...(s.mode === "bars" && bars ? { paths: bars } : {}),
        ...(s.mode === "points" ? { paths: () => null } : {}),
        points:
          s.mode === "points" || s.mode === "both"
            ? { show: true, size: 5, stroke: c, fill: c }
            : { show: s.mode === "line" ? undefined : false },
      });
    });
    const axis = {
      stroke: "#555",
      grid: { stroke: "#eee", width: 1 },
      ticks: { stroke: "#ddd", width: 1 },
      font: "11px system-ui, sans-serif",
    };
    const width = () => Math.max(220, Math.floor(this.el.clientWidth || 380));
    const opts: uPlot.Options = {
      width: width(),
      height: 200,
      legend: { show: spec.series.length > 1 },
      cursor: { drag: { x: true, y: false, setScale: true } },
      scales: {
        x: cats
          ? { time: false, range: () => [-0.5, Math.max(0, cats.length - 1) + 0.5] }
          : { time: false, ...(rows || spec.series.some((s) => s.mode === "bars") ? { range: padRange } : {}) },
      },
      axes: [
        {
          ...axis,
          size: 30,
          label: spec.xLabel || undefined,
          labelSize: spec.xLabel ? 14 : 0,
          labelFont: "11px system-ui, sans-serif",
          ...(cats
            ? {
                incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
                values: (_u: uPlot, splits: number[]) =>
                  splits.map((v) => (Number.isInteger(v) && v >= 0 ? (cats[v] ?? "") : "")),
              }
            : { values: (_u: uPlot, splits: number[]) => splits.map((v) => fmtNum(v)) }),
        },
        {
          ...axis,
          size: 50,
          label: spec.yLabel || undefined,
          labelSize: spec.yLabel ? 14 : 0,
          labelFont: "11px system-ui, sans-serif",
          values: (_u: uPlot, splits: number[]) => splits.map((v) => fmtNum(v)),
        },
      ],
      series,
    };
    this.plot = new uPlot(opts, data, this.el);
    this.plot.over.addEventListener("dblclick", () => this.plot?.setData(data, true));
    let lastW = 0;
    this.obs = new ResizeObserver(() => {
      const w = width();
      if (this.plot && w !== lastW) {
        lastW = w;
        this.plot.setSize({ width: w, height: 200 });
      }
    });
    this.obs.observe(this.el);
  }

  destroy(): void {
    this.obs.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }
}

/** Half a bar's room on either side of numeric bars. */
function padRange(_u: uPlot, min: number, max: number): uPlot.Range.MinMax {
  const pad = max > min ? (max - min) * 0.05 : 0.5;
  return [min - pad, max + pad];
}
