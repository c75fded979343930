// Histogram panels (`histogram`: counts `values`, edges `bins`): every step
// as one row of a heatmap on a canvas (x = bin value, y = step, first step
// at the top; shade = a bin's count against the step's largest), and the
// latest step as bars. Hovering the heatmap reads out step, bin and count.

import { fmtNum } from "./format";
import { el, numOf, type MediaPoint } from "./media";

interface Hist {
  step: number;
  counts: number[];
  edges: number[];
}

const ACCENT = [37, 99, 235];
const FONT = "11px system-ui, sans-serif";
const LEFT = 46;
const BOTTOM = 18;
const TOP = 4;
const RIGHT = 8;

/** The histograms of the points, malformed ones left out. */
export function histograms(points: MediaPoint[]): Hist[] {
  const out: Hist[] = [];
  for (const p of points) {
    const vs = Array.isArray(p.value.values) ? p.value.values : [];
    const bs = Array.isArray(p.value.bins) ? p.value.bins : [];
    const counts = vs.map((v) => numOf(v) ?? 0).map((c) => (Number.isFinite(c) && c > 0 ? c : 0));
    const edges = bs.map((b) => numOf(b) ?? NaN);
    if (counts.length === 0 || edges.length !== counts.length + 1 || !edges.every(Number.isFinite)) continue;
    out.push({ step: p.step, counts, edges });
  }
  return out;
}

function domain(hs: Hist[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const h of hs) {
    lo = Math.min(lo, h.edges[0] as number);
    hi = Math.max(hi, h.edges[h.edges.length - 1] as number);
  }
  if (!(hi > lo)) return [lo - 0.5, lo + 0.5];
  return [lo, hi];
}

/** A canvas sized for the device's pixels; drawing is in CSS pixels. */
function sized(canvas: HTMLCanvasElement, w: number, h: number): CanvasRenderingContext2D {
  const r = window.devicePixelRatio || 1;
  canvas.width = Math.round(w * r);
  canvas.height = Math.round(h * r);
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  const ctx = canvas.getContext("2d") as CanvasRenderingContext2D;
  ctx.setTransform(r, 0, 0, r, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.font = FONT;
  return ctx;
}

/** Round tick values (1, 2 or 5 times a power of ten apart) across [lo, hi], about one per 80 px. */
export function ticks(lo: number, hi: number, px: number): number[] {
  const span = hi - lo;
  if (!(span > 0) || !Number.isFinite(span)) return [lo];
  const raw = span / Math.max(2, Math.floor(px / 80));
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / p;
  const step = (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10) * p;
  const digits = Math.max(0, -Math.floor(Math.log10(step)));
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + span * 1e-9; v += step) out.push(Number(v.toFixed(digits)));
  return out;
}

function xAxis(ctx: CanvasRenderingContext2D, lo: number, hi: number, w: number, y: number): void {
  ctx.fillStyle = "#555";
  ctx.textBaseline = "top";
  ctx.textAlign = "center";
  const pw = w - LEFT - RIGHT;
  for (const v of ticks(lo, hi, pw)) {
    const x = LEFT + ((v - lo) / (hi - lo)) * pw;
    ctx.fillText(fmtNum(v), Math.min(Math.max(x, LEFT + 10), w - 10), y + 3);
    ctx.fillRect(Math.round(x), y, 1, 3);
  }
}

function drawHeatmap(canvas: HTMLCanvasElement, hs: Hist[], w: number): void {
  const rowH = Math.max(2, Math.min(24, Math.floor(200 / hs.length)));
  const plotH = rowH * hs.length;
  const ctx = sized(canvas, w, TOP + plotH + BOTTOM);
  const [lo, hi] = domain(hs);
  const pw = w - LEFT - RIGHT;
  const sx = (v: number) => LEFT + ((v - lo) / (hi - lo)) * pw;
  hs.forEach((h, row) => {
    const max = Math.max(...h.counts);
    const y = TOP + row * rowH;
    h.counts.forEach((c, i) => {
      if (c <= 0 || max <= 0) return;
      const x0 = sx(h.edges[i] as number);
      const x1 = sx(h.edges[i + 1] as number);
      ctx.fillStyle = `rgba(${ACCENT[0]},${ACCENT[1]},${ACCENT[2]},${(0.08 + 0.92 * (c / max)).toFixed(3)})`;
      ctx.fillRect(x0, y, Math.max(1, x1 - x0), rowH);
    });
  });
  ctx.strokeStyle = "#ddd";
  ctx.strokeRect(LEFT - 0.5, TOP - 0.5, pw + 1, plotH + 1);
  // Step labels: the first and last, and some between when there is room.
  ctx.fillStyle = "#555";
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  const every = Math.max(1, Math.ceil(14 / rowH));
  hs.forEach((h, row) => {
    if (row % every !== 0 && row !== hs.length - 1) return;
    if (row !== hs.length - 1 && hs.length - 1 - row < every) return;
    ctx.fillText(String(h.step), LEFT - 6, TOP + row * rowH + rowH / 2);
  });
  xAxis(ctx, lo, hi, w, TOP + plotH);
}

/** The newest step's bars, on the heatmap's x range so they line up under it. */
function drawBars(canvas: HTMLCanvasElement, h: Hist, w: number, [lo, hi]: [number, number]): void {
  const plotH = 90;
  const ctx = sized(canvas, w, TOP + plotH + BOTTOM);
  const pw = w - LEFT - RIGHT;
  const sx = (v: number) => LEFT + ((v - lo) / (hi - lo)) * pw;
  const max = Math.max(...h.counts, 0);
  ctx.fillStyle = `rgb(${ACCENT.join(",")})`;
  h.counts.forEach((c, i) => {
    if (c <= 0 || max <= 0) return;
    const x0 = sx(h.edges[i] as number);
    const x1 = sx(h.edges[i + 1] as number);
    const bh = (c / max) * plotH;
    ctx.fillRect(x0 + 0.5, TOP + plotH - bh, Math.max(1, x1 - x0 - 1), bh);
  });
  ctx.fillStyle = "#ddd";
  ctx.fillRect(LEFT, TOP + plotH, pw, 1);
  ctx.fillStyle = "#555";
  ctx.textAlign = "right";
  ctx.textBaseline = "top";
  ctx.fillText(fmtNum(max), LEFT - 6, TOP);
  ctx.textBaseline = "bottom";
  ctx.fillText("0", LEFT - 6, TOP + plotH);
  xAxis(ctx, lo, hi, w, TOP + plotH);
}

/**
 * Draws the histograms of `points` into `body` (replacing what is there);
 * returns a function that redraws at the current width.
 */
export function renderHistograms(body: HTMLElement, points: MediaPoint[]): () => void {
  const hs = histograms(points);
  if (hs.length === 0) {
    body.replaceChildren(el("div", { class: "media-note", text: "no histogram data" }));
    return () => {};
  }
  const last = hs[hs.length - 1] as Hist;
  const heat = el("canvas", { class: "hist-heatmap", "data-testid": "histogram-heatmap", "data-steps": hs.length });
  const bars = el("canvas", { class: "hist-bars", "data-testid": "histogram-bars", "data-step": last.step });
  const readout = el("span", { class: "readout" });
  body.replaceChildren(
    el(
      "div",
      { class: "media-sub" },
      el("span", { class: "muted", text: `${hs.length} steps · shade: count / the step's largest` }),
      readout,
    ),
    heat,
    el("div", { class: "media-sub muted", text: `step ${last.step}` }),
    bars,
  );
  const width = () => Math.max(220, Math.floor(body.clientWidth || 380));
  const draw = () => {
    const w = width();
    drawHeatmap(heat, hs, w);
    drawBars(bars, last, w, domain(hs));
  };
  draw();
  heat.addEventListener("mousemove", (e) => {
    const r = heat.getBoundingClientRect();
    const rowH = (r.height - TOP - BOTTOM) / hs.length;
    const h = hs[Math.floor((e.clientY - r.top - TOP) / rowH)];
    const [lo, hi] = domain(hs);
    const v = lo + ((e.clientX - r.left - LEFT) / (r.width - LEFT - RIGHT)) * (hi - lo);
    const i = h ? h.edges.findIndex((b, j) => j < h.counts.length && v >= b && v < (h.edges[j + 1] as number)) : -1;
    if (!h || i < 0) {
      readout.textContent = "";
      return;
    }
    const bin = `[${fmtNum(h.edges[i] as number)}, ${fmtNum(h.edges[i + 1] as number)})`;
    readout.textContent = `step ${h.step} · ${bin} · ${fmtNum(h.counts[i] as number)}`;
  });
  heat.addEventListener("mouseleave", () => (readout.textContent = ""));
  return draw;
}
