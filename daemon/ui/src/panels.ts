// A set of metric charts in sections, for one run (run page) or several
// (compare page): initial loads, live appends of new steps only, zoom
// refetches of a step range, x-axis / log / smoothing switches.

import { Chart, type Line, type XKind } from "./chart";
import { esc } from "./format";
import { appendSeries, loadSeries, MAX_POINTS, type SeriesData } from "./history";
import { isAbort, type Page } from "./page";

export interface PanelRun {
  id: string;
  label: string;
  color: string;
}

export interface PanelSetOptions {
  /** The x axis of every chart: "" (step), `_timestamp`, `_runtime` or a step metric. */
  xKey: string;
  /** Per-key x axis (run page: a metric's define_metric step_metric); overrides `xKey`. */
  keyX?: (key: string) => string;
  /** A run's start, Unix seconds (system metrics against relative time). */
  runStart?: (runId: string) => number;
  logY: boolean;
  smoothing: number;
  /** Called after a panel's data changed (tests, counters). */
  onChange?: () => void;
}

interface Panel {
  key: string;
  section: string;
  /** Runs that have this key, in legend order. */
  runs: PanelRun[];
  chart: Chart;
  /** Full-range data per run id (live appends land here). */
  data: Map<string, SeriesData>;
  /** Finer data of a zoomed step range, if zoomed. */
  zoom: Map<string, SeriesData> | null;
  zoomSeq: number;
}

export function xKindOf(xKey: string): XKind {
  if (!xKey) return "step";
  if (xKey === "_timestamp") return "time";
  if (xKey === "_runtime") return "duration";
  return "number";
}

export function xLabelOf(xKey: string): string {
  if (!xKey) return "step";
  if (xKey === "_timestamp") return "time";
  if (xKey === "_runtime") return "runtime";
  return xKey;
}

/** The section of a chart: "System" for system metrics, else the prefix before the first `/`, else "Charts". */
export function sectionOf(key: string, system: boolean): string {
  if (system) return "System";
  const i = key.indexOf("/");
  return i > 0 ? key.slice(0, i) : "Charts";
}

function sectionOrder(a: string, b: string): number {
  const rank = (s: string) => (s === "Charts" ? 0 : s === "System" ? 2 : 1);
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** How one chart's x axis is fetched and shown. */
interface Axis {
  /** The `x` query parameter ("" = steps). */
  req: string;
  kind: XKind;
  label: string;
  /** Subtract the run's start (relative time from a timestamp). */
  relative: boolean;
}

/**
 * System metrics have their own steps (sample numbers) and their own
 * `_timestamp`: against wall or relative time they use `system/_timestamp`;
 * against steps or a step metric, their sample numbers.
 */
function axisFor(key: string, x: string): Axis {
  if (key.startsWith("system/")) {
    if (x === "_timestamp") return { req: "system/_timestamp", kind: "time", label: "time", relative: false };
    if (x === "_runtime") return { req: "system/_timestamp", kind: "duration", label: "runtime", relative: true };
    return { req: "", kind: "step", label: "sample", relative: false };
  }
  return { req: x, kind: xKindOf(x), label: xLabelOf(x), relative: false };
}

export class PanelSet {
  private readonly panels = new Map<string, Panel>();
  private readonly sections = new Map<string, HTMLElement>();
  private readonly busy = new Set<string>();
  private readonly again = new Set<string>();

  constructor(
    private readonly page: Page,
    private readonly root: HTMLElement,
    private opts: PanelSetOptions,
  ) {
    page.onDispose(() => this.destroy());
  }

  get size(): number {
    return this.panels.size;
  }

  has(key: string): boolean {
    return this.panels.has(key);
  }

  private axis(key: string): Axis {
    return axisFor(key, this.opts.keyX?.(key) || this.opts.xKey);
  }

  /** Loads keys sharing one axis for one run; relative times shifted. */
  private async fetch(runId: string, keys: string[], ax: Axis, opt: { minStep?: number; maxStep?: number }) {
    const got = await loadSeries(runId, keys, ax.req, opt, this.page.signal);
    if (ax.relative) {
      const start = this.opts.runStart?.(runId) ?? 0;
      for (const s of got.values()) for (let i = 0; i < s.x.length; i++) s.x[i] = (s.x[i] as number) - start;
    }
    return got;
  }

  /** Keys grouped by axis (one request group each). */
  private byAxis(keys: string[]): Map<string, { ax: Axis; keys: string[] }> {
    const out = new Map<string, { ax: Axis; keys: string[] }>();
    for (const k of keys) {
      const ax = this.axis(k);
      const g = `${ax.req}\u0000${ax.relative}`;
      if (!out.has(g)) out.set(g, { ax, keys: [] });
      out.get(g)?.keys.push(k);
    }
    return out;
  }

  /** Adds a chart for `key` drawn for `runs` (no data yet). */
  add(key: string, section: string, runs: PanelRun[]): void {
    if (this.panels.has(key)) return;
    const grid = this.sectionGrid(section);
    // Keep the charts of a section sorted by key.
    const chartsBefore = [...this.panels.values()].filter((p) => p.section === section && p.key > key);
    const ax = this.axis(key);
    const panel: Panel = {
      key,
      section,
      runs,
      data: new Map(),
      zoom: null,
      zoomSeq: 0,
      chart: new Chart(grid, {
        metric: key,
        xKind: ax.kind,
        xLabel: ax.label,
        logY: this.opts.logY,
        smoothing: this.opts.smoothing,
        syncKey: `x:${ax.req}:${ax.relative}`,
        onZoom: (min, max) => void this.zoom(key, min, max),
        onReset: () => this.unzoom(key),
      }),
    };
    const next = chartsBefore.sort((a, b) => a.key.localeCompare(b.key))[0];
    if (next) grid.insertBefore(panel.chart.el, next.chart.el);
    this.panels.set(key, panel);
    this.updateCount(section);
    this.draw(panel);
  }

  private sectionGrid(section: string): HTMLElement {
    let el = this.sections.get(section);
    if (!el) {
      el = document.createElement("details");
      el.className = "section";
      el.dataset.section = section;
      (el as HTMLDetailsElement).open = true;
      el.innerHTML = `<summary><span class="section-name">${esc(section)}</span> <span class="count"></span></summary><div class="charts-grid"></div>`;
      const after = [...this.sections.entries()].filter(([s]) => sectionOrder(s, section) > 0).sort((a, b) => sectionOrder(a[0], b[0]))[0];
      if (after) this.root.insertBefore(el, after[1]);
      else this.root.appendChild(el);
      this.sections.set(section, el);
    }
    return el.querySelector(".charts-grid") as HTMLElement;
  }

  private updateCount(section: string): void {
    const n = [...this.panels.values()].filter((p) => p.section === section).length;
    const c = this.sections.get(section)?.querySelector(".count");
    if (c) c.textContent = String(n);
  }

  private draw(p: Panel, keepZoom = false): void {
    const src = p.zoom ?? p.data;
    const lines: Line[] = p.runs.map((r) => {
      const d = src.get(r.id);
      return { label: r.label, color: r.color, x: d?.x ?? [], y: d?.y ?? [] };
    });
    p.chart.setLines(lines, keepZoom);
    this.opts.onChange?.();
  }

  /** Loads every chart's full range for every run (replacing what is held). */
  async loadAll(): Promise<void> {
    const runs = new Map<string, PanelRun>();
    for (const p of this.panels.values()) for (const r of p.runs) runs.set(r.id, r);
    await Promise.all([...runs.keys()].map((id) => this.loadRun(id, [...this.panels.keys()])));
  }

  /** Loads `keys` (those of them this run has) for one run. */
  async loadRun(runId: string, keys: string[]): Promise<void> {
    const mine = keys.filter((k) => this.panels.get(k)?.runs.some((r) => r.id === runId));
    await Promise.all(
      [...this.byAxis(mine).values()].map(async ({ ax, keys: ks }) => {
        const got = await this.fetch(runId, ks, ax, {});
        if (!this.page.alive) return;
        for (const k of ks) {
          const p = this.panels.get(k);
          if (!p) continue;
          p.data.set(runId, got.get(k) ?? { x: [], y: [], lastStep: -Infinity, total: 0 });
          this.draw(p, p.zoom !== null);
        }
      }),
    );
  }

  /** Fetches only the steps after the last one held, for every chart of `runId`. */
  async append(runId: string): Promise<void> {
    if (this.busy.has(runId)) {
      this.again.add(runId);
      return;
    }
    this.busy.add(runId);
    try {
      // One request per (x axis, last step) group: usually one for all charts.
      const groups = new Map<string, { ax: Axis; last: number; keys: string[] }>();
      for (const p of this.panels.values()) {
        if (!p.runs.some((r) => r.id === runId)) continue;
        const last = p.data.get(runId)?.lastStep ?? -Infinity;
        const ax = this.axis(p.key);
        const g = `${ax.req}\u0000${ax.relative}\u0000${last}`;
        if (!groups.has(g)) groups.set(g, { ax, last, keys: [] });
        groups.get(g)?.keys.push(p.key);
      }
      await Promise.all(
        [...groups.values()].map(async ({ ax, last, keys }) => {
          const opt = Number.isFinite(last) ? { minStep: last + 1 } : {};
          const got = await this.fetch(runId, keys, ax, opt);
          if (!this.page.alive) return;
          for (const k of keys) {
            const p = this.panels.get(k);
            const more = got.get(k);
            if (!p || !more || more.x.length === 0) continue;
            const have = p.data.get(runId);
            if (have) appendSeries(have, more);
            else p.data.set(runId, more);
            const z = p.zoom?.get(runId);
            if (z) appendSeries(z, { ...more, x: more.x.slice(), y: more.y.slice() });
            this.draw(p, true);
          }
        }),
      );
    } catch (e) {
      if (!isAbort(e)) console.error(e);
    } finally {
      this.busy.delete(runId);
      if (this.again.delete(runId) && this.page.alive) void this.append(runId);
    }
  }

  /** Drag-zoom: with x = step, asks the server for the range again to get finer points. */
  private async zoom(key: string, min: number, max: number): Promise<void> {
    const p = this.panels.get(key);
    if (!p || this.axis(key).req !== "") return;
    const seq = ++p.zoomSeq;
    const zoom = new Map<string, SeriesData>();
    try {
      await Promise.all(
        p.runs.map(async (r) => {
          const got = await loadSeries(
            r.id,
            [key],
            "",
            { minStep: Math.max(0, Math.floor(min)), maxStep: Math.ceil(max), maxPoints: MAX_POINTS },
            this.page.signal,
          );
          const s = got.get(key);
          if (s) zoom.set(r.id, s);
        }),
      );
    } catch (e) {
      if (!isAbort(e)) console.error(e);
      return;
    }
    if (!this.page.alive || seq !== p.zoomSeq) return;
    p.zoom = zoom;
    this.draw(p, true);
  }

  private unzoom(key: string): void {
    const p = this.panels.get(key);
    if (!p) return;
    p.zoomSeq++;
    p.zoom = null;
    this.draw(p, false);
  }

  setLogY(on: boolean): void {
    this.opts = { ...this.opts, logY: on };
    for (const p of this.panels.values()) p.chart.setLogY(on);
  }

  setSmoothing(a: number): void {
    this.opts = { ...this.opts, smoothing: a };
    for (const p of this.panels.values()) p.chart.setSmoothing(a);
  }

  /** Switches the x axis: charts are rebuilt and reloaded. */
  async setXKey(xKey: string): Promise<void> {
    const specs = [...this.panels.values()].map((p) => ({ key: p.key, section: p.section, runs: p.runs }));
    this.clear();
    this.opts = { ...this.opts, xKey };
    for (const s of specs) this.add(s.key, s.section, s.runs);
    await this.loadAll();
  }

  private clear(): void {
    for (const p of this.panels.values()) p.chart.destroy();
    this.panels.clear();
    for (const s of this.sections.values()) s.remove();
    this.sections.clear();
  }

  destroy(): void {
    this.clear();
  }
}
