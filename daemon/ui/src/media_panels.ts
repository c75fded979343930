// The run page's Media section: one panel per media key (a summary value
// with `_type`), with its values over steps from `/history`. Histograms
// draw every step at once; every other type shows one step at a time with
// a step slider across the steps where the key was logged. Live: new steps
// are fetched after the last one held (the slider follows the newest step
// when it was on the newest).

import { api, type RunDoc } from "./api";
import { isAbort, pool, type Page } from "./page";
import { asMedia, el, mediaKeys, mediaNote, type MediaPoint, type MediaValue } from "./media";
import { renderAudio, renderHtml, renderOther } from "./media_embed";
import { renderHistograms } from "./media_histogram";
import { renderImage, renderImages } from "./media_image";
import { renderPlot, renderPlotly, type Destroyers } from "./media_plot";
import { renderTableFile } from "./media_table";

/** Points per media key asked from the server (more are thinned, first and last kept). */
const MAX_MEDIA_POINTS = 400;
const KEYS_PER_REQUEST = 16;

/** Draws one value into an empty `body`; charts it makes go into `destroyers`. */
type Renderer = (
  body: HTMLElement,
  v: MediaValue,
  runId: string,
  signal: AbortSignal,
  destroyers: Destroyers,
) => void | Promise<void>;

const RENDERERS: Record<string, Renderer> = {
  "image-file": renderImage,
  "images/separated": renderImages,
  "table-file": renderTableFile,
  "audio-file": renderAudio,
  "html-file": renderHtml,
  "plotly-file": renderPlotly,
  plot: renderPlot,
};

/** Types whose panel is wide (two grid columns when there is room). */
const WIDE = new Set(["table-file", "plot", "plotly-file", "histogram", "html-file"]);

/** A key's values read from history, and the last step read (values or not). */
interface Held {
  points: MediaPoint[];
  lastStep: number;
}

class MediaPanel {
  readonly el: HTMLElement;
  private readonly title: HTMLElement;
  private readonly stepLabel: HTMLElement;
  private readonly body: HTMLElement;
  private readonly slider: HTMLInputElement;
  points: MediaPoint[] = [];
  /** The last step held (-Infinity: none); appends ask from the next one. */
  lastStep = -Infinity;
  /** Values come from the summary only (no history series, or none readable). */
  fromSummary = false;
  private index = -1;
  private seq = 0;
  private destroyers: Destroyers = [];
  /** Redraws a histogram at the current width. */
  redraw: (() => void) | null = null;

  constructor(
    readonly key: string,
    public type: string,
    /** Whether the run has a history series of this key. */
    public inHistory: boolean,
    private readonly runId: string,
    private readonly signal: AbortSignal,
  ) {
    this.title = el("span", { class: "chart-title", title: key, text: key });
    this.stepLabel = el("span", { class: "readout" });
    this.body = el("div", { class: "media-body" });
    this.slider = el("input", {
      type: "range",
      min: 0,
      max: 0,
      step: 1,
      value: 0,
      "data-testid": "media-step",
      "aria-label": `step of ${key}`,
    });
    this.slider.hidden = true;
    this.slider.addEventListener("input", () => void this.show(Number(this.slider.value)));
    this.el = el(
      "div",
      { class: "media-panel", "data-testid": "media-panel", "data-key": key },
      el("div", { class: "chart-head" }, this.title, el("span", { class: "muted media-type" }), this.stepLabel),
      this.body,
      el("div", { class: "media-steps" }, this.slider),
    );
    this.setType(type);
  }

  setType(type: string): void {
    this.type = type;
    this.el.dataset.type = type;
    this.el.classList.toggle("wide", WIDE.has(type));
    (this.el.querySelector(".media-type") as HTMLElement).textContent = type;
  }

  /** Replaces the values and shows the newest (or keeps the step shown when not following). */
  async setPoints(points: MediaPoint[]): Promise<void> {
    const follow = this.index < 0 || this.index >= this.points.length - 1;
    this.points = points;
    this.el.dataset.steps = String(points.length);
    const last = points[points.length - 1];
    if (last && last.value._type !== this.type) this.setType(last.value._type);
    if (this.type === "histogram") return this.showHistograms();
    this.slider.max = String(Math.max(0, points.length - 1));
    this.slider.hidden = points.length < 2;
    if (points.length === 0) {
      this.index = -1;
      this.clear();
      this.body.append(mediaNote("no values yet"));
      return;
    }
    await this.show(follow ? points.length - 1 : Math.min(this.index, points.length - 1));
  }

  private clear(): void {
    for (const d of this.destroyers.splice(0)) d();
    this.redraw = null;
    this.body.replaceChildren();
  }

  private label(p: MediaPoint): string {
    return this.fromSummary ? "summary" : `step ${p.step}`;
  }

  private async showHistograms(): Promise<void> {
    this.slider.hidden = true;
    this.clear();
    const p = this.points[this.points.length - 1];
    this.stepLabel.textContent = p ? `${this.points.length} steps` : "";
    if (p) this.el.dataset.step = String(p.step);
    this.redraw = renderHistograms(this.body, this.points);
    this.el.dataset.loaded = "1";
  }

  /** Shows the value at `i` (the slider's position). */
  async show(i: number): Promise<void> {
    const p = this.points[i];
    if (!p) return;
    const seq = ++this.seq;
    this.index = i;
    this.slider.value = String(i);
    this.el.dataset.step = String(p.step);
    this.el.dataset.loaded = "0";
    this.stepLabel.textContent = this.points.length > 1 ? `${this.label(p)} (${i + 1}/${this.points.length})` : this.label(p);
    this.clear();
    const box = el("div", { class: "media-value" });
    this.body.append(box);
    const render = RENDERERS[p.value._type] ?? renderOther;
    try {
      await render(box, p.value, this.runId, this.signal, this.destroyers);
    } catch (e) {
      if (isAbort(e)) return;
      const msg = e instanceof Error ? e.message : String(e);
      if (seq === this.seq) box.append(mediaNote(`could not show this value: ${msg}`, "media-note error"));
    }
    if (seq === this.seq) this.el.dataset.loaded = "1";
  }

  destroy(): void {
    this.clear();
    this.el.remove();
  }
}

export class MediaSet {
  private readonly panels = new Map<string, MediaPanel>();
  private readonly section: HTMLDetailsElement;
  private readonly grid: HTMLElement;
  private readonly count: HTMLElement;
  private readonly resize: ResizeObserver;
  private busy = false;
  private again = false;
  private summary = new Map<string, MediaValue>();
  private summaryStep = 0;

  constructor(
    private readonly page: Page,
    root: HTMLElement,
    private readonly runId: string,
  ) {
    this.count = el("span", { class: "count" });
    this.grid = el("div", { class: "media-grid" });
    this.section = el(
      "details",
      { class: "section media-section", "data-section": "Media", "data-testid": "media" },
      el("summary", {}, el("span", { class: "section-name", text: "Media" }), " ", this.count),
      this.grid,
    );
    this.section.open = true;
    this.section.hidden = true;
    root.append(this.section);
    let widths = new WeakMap<Element, number>();
    this.resize = new ResizeObserver((entries) => {
      for (const e of entries) {
        const w = Math.round(e.contentRect.width);
        if (widths.get(e.target) === w) continue;
        widths.set(e.target, w);
        for (const p of this.panels.values()) if (p.el === e.target) p.redraw?.();
      }
    });
    page.onDispose(() => {
      this.resize.disconnect();
      widths = new WeakMap();
      for (const p of this.panels.values()) p.destroy();
      this.panels.clear();
    });
  }

  get size(): number {
    return this.panels.size;
  }

  /** Whether `key` is shown as media (so it gets no line chart). */
  has(key: string): boolean {
    return this.panels.has(key);
  }

  /**
   * Adds a panel for each media key of `doc` not shown yet (returns them);
   * panels whose values come from the summary alone take its newest value.
   */
  sync(doc: RunDoc): string[] {
    this.summary = mediaKeys(doc.summary);
    const st = doc.summary?._step;
    this.summaryStep = typeof st === "number" ? st : Math.max(0, (doc.steps ?? 1) - 1);
    const hist = new Set(doc.history_keys ?? []);
    const added: string[] = [];
    for (const [key, v] of this.summary) {
      const have = this.panels.get(key);
      if (have) {
        const held = have.points[have.points.length - 1]?.value;
        if (hist.has(key) && !have.inHistory) {
          // Logged to history since: read it there.
          have.inHistory = true;
          void this.load([key]);
        } else if (have.fromSummary && JSON.stringify(held) !== JSON.stringify(v)) {
          void have.setPoints([{ step: this.summaryStep, value: v }]);
        }
        continue;
      }
      const p = new MediaPanel(key, v._type, hist.has(key), this.runId, this.page.signal);
      const next = [...this.panels.values()].filter((q) => q.key > key).sort((a, b) => a.key.localeCompare(b.key))[0];
      if (next) this.grid.insertBefore(p.el, next.el);
      else this.grid.append(p.el);
      this.panels.set(key, p);
      this.resize.observe(p.el);
      added.push(key);
    }
    this.section.hidden = this.panels.size === 0;
    this.count.textContent = String(this.panels.size);
    return added;
  }

  /** Loads every value of `keys` (all panels when not given) and draws them. */
  async load(keys: string[] = [...this.panels.keys()]): Promise<void> {
    const ps = keys.map((k) => this.panels.get(k)).filter((p): p is MediaPanel => !!p);
    const fromHistory = ps.filter((p) => p.inHistory);
    const got = await this.fetch(fromHistory.map((p) => p.key), undefined);
    if (!this.page.alive) return;
    await Promise.all(
      ps.map((p) => {
        const h = got.get(p.key);
        if (h) p.lastStep = h.lastStep;
        let points = h?.points ?? [];
        p.fromSummary = points.length === 0;
        if (p.fromSummary) {
          // No history, or a daemon that does not return JSON values in it.
          const v = this.summary.get(p.key);
          const step = Number.isFinite(p.lastStep) ? p.lastStep : this.summaryStep;
          points = v ? [{ step, value: v }] : [];
        }
        return p.setPoints(points);
      }),
    );
  }

  /** Fetches the steps after the last one held for every history-backed panel. */
  async append(): Promise<void> {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      const byLast = new Map<number, MediaPanel[]>();
      for (const p of this.panels.values()) {
        if (!p.inHistory || p.fromSummary) continue;
        const g = byLast.get(p.lastStep) ?? [];
        g.push(p);
        byLast.set(p.lastStep, g);
      }
      await Promise.all(
        [...byLast].map(async ([last, ps]) => {
          const got = await this.fetch(ps.map((p) => p.key), Number.isFinite(last) ? last + 1 : undefined);
          if (!this.page.alive) return;
          await Promise.all(
            ps.map((p) => {
              const h = got.get(p.key);
              if (!h || h.points.length === 0) return undefined;
              p.lastStep = Math.max(p.lastStep, h.lastStep);
              return p.setPoints([...p.points, ...h.points]);
            }),
          );
        }),
      );
    } catch (e) {
      if (!isAbort(e)) console.error(e);
    } finally {
      this.busy = false;
      if (this.again && this.page.alive) {
        this.again = false;
        void this.append();
      }
    }
  }

  /** The media values of `keys` in history from `minStep` on, by key. */
  private async fetch(keys: string[], minStep: number | undefined): Promise<Map<string, Held>> {
    const out = new Map<string, Held>();
    if (keys.length === 0) return out;
    const chunks: string[][] = [];
    for (let i = 0; i < keys.length; i += KEYS_PER_REQUEST) chunks.push(keys.slice(i, i + KEYS_PER_REQUEST));
    const opt = { maxPoints: MAX_MEDIA_POINTS, ...(minStep !== undefined ? { minStep } : {}) };
    const results = await pool(
      4,
      chunks.map((c) => () => api.history(this.runId, c, opt, this.page.signal)),
    );
    for (const series of results) {
      for (const s of series) {
        const points: MediaPoint[] = [];
        let lastStep = -Infinity;
        s.steps.forEach((step, i) => {
          lastStep = Math.max(lastStep, step);
          const v = asMedia(s.values[i]);
          if (v) points.push({ step, value: v });
        });
        out.set(s.key, { points, lastStep });
      }
    }
    return out;
  }
}
