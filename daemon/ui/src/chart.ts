// A uPlot line chart in a card: one or more lines (one per run), each drawn
// raw and, with smoothing, as an EMA over it (the raw line faint). The
// wrapper carries the test hooks data-metric / data-points / data-series.

import uPlot from "uplot";

import { esc, fade, fmtDuration, fmtNum } from "./format";

export interface Line {
  label: string;
  color: string;
  /** x values (not necessarily sorted) and y values, same length. */
  x: number[];
  y: (number | null)[];
}

/** How x values read: steps, Unix seconds, seconds since start, or any number. */
export type XKind = "step" | "time" | "duration" | "number";

export interface ChartOptions {
  metric: string;
  xKind: XKind;
  xLabel: string;
  logY: boolean;
  smoothing: number;
  /** Charts with the same key share the cursor. */
  syncKey?: string;
  height?: number;
  /** A drag-zoom of the x axis to [min, max]. */
  onZoom?: (min: number, max: number) => void;
  /** A double-click reset of the zoom. */
  onReset?: () => void;
}

export class Chart {
  readonly el: HTMLElement;
  private readonly plotEl: HTMLElement;
  private readonly readout: HTMLElement;
  private plot: uPlot | null = null;
  private lines: Line[] = [];
  private joined: uPlot.AlignedData = [[]];
  private quiet = false;
  private zoomed = false;
  private readonly resizeObs: ResizeObserver;

  constructor(
    parent: HTMLElement,
    private opts: ChartOptions,
  ) {
    this.el = document.createElement("div");
    this.el.className = "chart";
    this.el.dataset.testid = "chart";
    this.el.dataset.metric = opts.metric;
    this.el.dataset.points = "0";
    this.el.dataset.series = "0";
    const vs = opts.xKind === "step" ? "" : ` <span class="muted vs">vs ${esc(opts.xLabel)}</span>`;
    this.el.innerHTML = `<div class="chart-head"><span class="chart-title" title="${esc(opts.metric)}">${esc(
      opts.metric,
    )}</span>${vs}<span class="readout"></span></div><div class="plot"></div>`;
    this.plotEl = this.el.querySelector(".plot") as HTMLElement;
    this.readout = this.el.querySelector(".readout") as HTMLElement;
    parent.appendChild(this.el);
    let lastW = 0;
    this.resizeObs = new ResizeObserver(() => {
      const w = this.width();
      if (this.plot && w !== lastW) {
        lastW = w;
        this.plot.setSize({ width: w, height: this.height() });
      }
    });
    this.resizeObs.observe(this.plotEl);
  }

  /** Total points held (over all lines). */
  get points(): number {
    return this.lines.reduce((n, l) => n + l.x.length, 0);
  }

  /** Replaces the lines; `keepZoom` keeps the current x range. */
  setLines(lines: Line[], keepZoom = false): void {
    this.lines = lines;
    this.el.dataset.points = String(this.points);
    this.el.dataset.series = String(lines.length);
    this.el.classList.toggle("empty", this.points === 0);
    const needNew = !this.plot || this.plot.series.length !== 1 + 2 * lines.length;
    this.joined = this.buildData();
    if (needNew) {
      this.create();
    } else if (this.plot) {
      this.quiet = true;
      this.plot.setData(this.joined, !(keepZoom && this.zoomed));
      this.quiet = false;
      if (!keepZoom) this.zoomed = false;
    }
  }

  setLogY(on: boolean): void {
    if (on === this.opts.logY) return;
    this.opts = { ...this.opts, logY: on };
    this.joined = this.buildData();
    this.create();
  }

  setSmoothing(a: number): void {
    if (a === this.opts.smoothing) return;
    this.opts = { ...this.opts, smoothing: a };
    this.joined = this.buildData();
    if (this.plot) {
      this.quiet = true;
      this.plot.setData(this.joined, !this.zoomed);
      this.quiet = false;
    }
  }

  destroy(): void {
    this.resizeObs.disconnect();
    this.plot?.destroy();
    this.plot = null;
    this.el.remove();
  }

  private width(): number {
    return Math.max(200, Math.floor(this.plotEl.clientWidth || 400));
  }

  private height(): number {
    return this.opts.height ?? 190;
  }

  /** [x, raw0, smooth0, raw1, smooth1, ...] on the union of x values. */
  private buildData(): uPlot.AlignedData {
    const a = this.opts.smoothing;
    const log = this.opts.logY;
    const prepared = this.lines.map((l) => {
      const { x, y } = sortUnique(l.x, l.y);
      const clean = y.map((v) => (v === null || !Number.isFinite(v) || (log && v <= 0) ? null : v));
      const smooth = a > 0 ? ema(y, a).map((v) => (v === null || (log && v <= 0) ? null : v)) : clean.map(() => null);
      return { x, ys: [clean, smooth] };
    });
    if (prepared.length === 1) {
      const p = prepared[0]!;
      return [p.x, ...p.ys] as uPlot.AlignedData;
    }
    const xs = unionSorted(prepared.map((p) => p.x));
    const out: (number | null)[][] = [];
    for (const p of prepared) {
      for (const ys of p.ys) out.push(align(xs, p.x, ys));
    }
    return [xs, ...out] as uPlot.AlignedData;
  }

  private create(): void {
    this.plot?.destroy();
    this.zoomed = false;
    const o = this.opts;
    const self = this;
    const series: uPlot.Series[] = [{ label: o.xLabel }];
    this.lines.forEach((l) => {
      series.push({
        label: l.label,
        stroke: () => (self.opts.smoothing > 0 ? fade(l.color, 0.25) : l.color),
        width: 1.25,
        spanGaps: true,
        points: { size: 4 },
      });
      series.push({ label: `${l.label} (smoothed)`, stroke: l.color, width: 1.5, spanGaps: true, points: { show: false } });
    });
    const xValues = (_u: uPlot, splits: number[]) =>
      splits.map((v) => (o.xKind === "duration" ? fmtDuration(v) : fmtNum(v)));
    const opts: uPlot.Options = {
      width: this.width(),
      height: this.height(),
      legend: { show: false },
      cursor: {
        drag: { x: true, y: false, setScale: true },
        // Share the hover position, not drags: each chart zooms on its own.
        ...(o.syncKey
          ? { sync: { key: o.syncKey, filters: { pub: (type: string) => type === "mousemove" || type === "mouseleave" } } }
          : {}),
      },
      scales: {
        x: { time: o.xKind === "time" },
        y: o.logY ? { distr: 3 } : {},
      },
      axes: [
        {
          size: 30,
          stroke: "#555",
          grid: { stroke: "#eee", width: 1 },
          ticks: { stroke: "#ddd", width: 1 },
          font: "11px system-ui, sans-serif",
          ...(o.xKind === "time" ? {} : { values: xValues }),
        },
        {
          size: axisSize,
          stroke: "#555",
          grid: { stroke: "#eee", width: 1 },
          ticks: { stroke: "#ddd", width: 1 },
          font: "11px system-ui, sans-serif",
          values: (_u, splits) => splits.map((v) => (v === null ? "" : fmtNum(v))),
        },
      ],
      series,
      hooks: {
        setCursor: [(u) => this.showReadout(u)],
        setSelect: [
          (u) => {
            // A drag-zoom (the x scale follows right after).
            if (this.quiet || u.select.width <= 0) return;
            const min = u.posToVal(u.select.left, "x");
            const max = u.posToVal(u.select.left + u.select.width, "x");
            if (!(max > min)) return;
            this.zoomed = true;
            o.onZoom?.(min, max);
          },
        ],
      },
    };
    this.plot = new uPlot(opts, this.joined, this.plotEl);
    this.plot.over.addEventListener("dblclick", () => {
      if (this.zoomed) {
        this.zoomed = false;
        o.onReset?.();
      }
    });
  }

  private showReadout(u: uPlot): void {
    const i = u.cursor.idx;
    if (i === null || i === undefined) {
      this.readout.textContent = "";
      return;
    }
    const x = u.data[0][i];
    if (x === undefined) return;
    const xs =
      this.opts.xKind === "time"
        ? new Date(x * 1000).toLocaleString()
        : this.opts.xKind === "duration"
          ? fmtDuration(x)
          : fmtNum(x);
    const parts = [`${esc(this.opts.xLabel)} ${esc(xs)}`];
    const smooth = this.opts.smoothing > 0 ? 1 : 0;
    this.lines.forEach((l, j) => {
      const v = u.data[1 + 2 * j + smooth]?.[i];
      if (v === null || v === undefined) return;
      const name = this.lines.length > 1 ? `<i style="background:${l.color}"></i>` : "";
      parts.push(`${name}${esc(fmtNum(v))}`);
    });
    this.readout.innerHTML = parts.join(" · ");
  }
}

/** The y axis' width: fits its longest tick label. */
function axisSize(u: uPlot, values: string[] | null, axisIdx: number, cycleNum: number): number {
  const axis = u.axes[axisIdx] as uPlot.Axis & { _size?: number };
  if (cycleNum > 1 && axis._size) return axis._size;
  let longest = "";
  for (const v of values ?? []) if (v.length > longest.length) longest = v;
  u.ctx.font = "11px system-ui, sans-serif";
  const w = longest ? u.ctx.measureText(longest).width : 0;
  return Math.ceil(Math.max(36, w + 14));
}

/** Points sorted by x, one per x (the last wins), non-finite x dropped. */
function sortUnique(x: number[], y: (number | null)[]): { x: number[]; y: (number | null)[] } {
  let sorted = true;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    if (!Number.isFinite(v) || (i > 0 && v <= (x[i - 1] as number))) {
      sorted = false;
      break;
    }
  }
  if (sorted) return { x, y };
  const idx: number[] = [];
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i])) idx.push(i);
  idx.sort((a, b) => (x[a] as number) - (x[b] as number) || a - b);
  const ox: number[] = [];
  const oy: (number | null)[] = [];
  for (const i of idx) {
    const v = x[i] as number;
    if (ox.length > 0 && ox[ox.length - 1] === v) oy[oy.length - 1] = y[i] ?? null;
    else {
      ox.push(v);
      oy.push(y[i] ?? null);
    }
  }
  return { x: ox, y: oy };
}

function unionSorted(arrays: number[][]): number[] {
  const all: number[] = [];
  for (const a of arrays) for (const v of a) all.push(v);
  all.sort((a, b) => a - b);
  const out: number[] = [];
  for (const v of all) if (out.length === 0 || out[out.length - 1] !== v) out.push(v);
  return out;
}

/** `ys` (at `x`) placed on the sorted superset `xs`, null elsewhere. */
function align(xs: number[], x: number[], ys: (number | null)[]): (number | null)[] {
  const out: (number | null)[] = new Array<number | null>(xs.length).fill(null);
  let j = 0;
  for (let i = 0; i < xs.length && j < x.length; i++) {
    if (xs[i] === x[j]) out[i] = ys[j++] ?? null;
  }
  return out;
}

/** Debiased exponential moving average (as TensorBoard); non-finite values are skipped. */
export function ema(y: (number | null)[], a: number): (number | null)[] {
  let last = 0;
  let n = 0;
  return y.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    last = last * a + (1 - a) * v;
    n++;
    return last / (1 - Math.pow(a, n));
  });
}
