// Hyperparameter view: an SVG scatter of one config key (x) against one
// summary metric (y), one point per run. Non-numeric config values are
// placed as categories.

import { num, type Json } from "./api";
import { esc, fmtNum, fmtValue } from "./format";

export interface HPoint {
  id: string;
  name: string;
  color: string;
  /** Flat config and summary of the run. */
  config: Map<string, Json>;
  summary: Map<string, Json>;
}

const W = 620;
const H = 300;
const PAD = { l: 60, r: 16, t: 12, b: 40 };

/** Ticks over [lo, hi]: about `n` round numbers. */
export function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** The scatter's SVG for `xKey` (config) vs `yKey` (summary). */
export function scatterSvg(points: HPoint[], xKey: string, yKey: string): string {
  const rows = points
    .map((p) => ({ p, xv: p.config.get(xKey), y: num(p.summary.get(yKey) ?? null) }))
    .filter((r) => r.xv !== undefined && r.xv !== null && r.y !== null && Number.isFinite(r.y)) as {
    p: HPoint;
    xv: Json;
    y: number;
  }[];
  if (rows.length === 0)
    return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}"><text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="muted-text">No run has both ${esc(xKey || "x")} and ${esc(yKey || "y")}</text></svg>`;
  const numeric = rows.every((r) => typeof r.xv === "number");
  const cats = numeric ? [] : [...new Set(rows.map((r) => fmtValue(r.xv)))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const xs = rows.map((r) => (numeric ? (r.xv as number) : cats.indexOf(fmtValue(r.xv))));
  const ys = rows.map((r) => r.y);
  const span = (vals: number[]) => {
    let lo = Math.min(...vals);
    let hi = Math.max(...vals);
    if (lo === hi) {
      const d = Math.abs(lo) * 0.1 || 1;
      lo -= d;
      hi += d;
    }
    const m = (hi - lo) * 0.06;
    return [lo - m, hi + m] as const;
  };
  const [x0, x1] = numeric ? span(xs) : ([-0.5, cats.length - 0.5] as const);
  const [y0, y1] = span(ys);
  const px = (v: number) => PAD.l + ((v - x0) / (x1 - x0)) * (W - PAD.l - PAD.r);
  const py = (v: number) => H - PAD.b - ((v - y0) / (y1 - y0)) * (H - PAD.t - PAD.b);
  const xt = numeric ? ticks(x0, x1).map((v) => [v, fmtNum(v)] as const) : cats.map((c, i) => [i, c] as const);
  const yt = ticks(y0, y1).map((v) => [v, fmtNum(v)] as const);
  const grid = [
    ...yt.map(
      ([v, l]) =>
        `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${py(v)}" y2="${py(v)}" class="grid"/><text x="${PAD.l - 6}" y="${py(v) + 4}" text-anchor="end">${esc(l)}</text>`,
    ),
    ...xt.map(
      ([v, l]) =>
        `<line x1="${px(v)}" x2="${px(v)}" y1="${PAD.t}" y2="${H - PAD.b}" class="grid"/><text x="${px(v)}" y="${H - PAD.b + 15}" text-anchor="middle">${esc(
          l.length > 14 ? l.slice(0, 13) + "…" : l,
        )}</text>`,
    ),
  ].join("");
  const dots = rows
    .map(
      (r, i) =>
        `<circle cx="${px(xs[i] as number)}" cy="${py(r.y)}" r="5" fill="${r.p.color}" data-run-id="${esc(r.p.id)}"><title>${esc(
          `${r.p.name}\n${xKey} = ${fmtValue(r.xv)}\n${yKey} = ${fmtNum(r.y)}`,
        )}</title></circle>`,
    )
    .join("");
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(`${yKey} vs ${xKey}`)}">
    ${grid}
    <line x1="${PAD.l}" x2="${W - PAD.r}" y1="${H - PAD.b}" y2="${H - PAD.b}" class="axis"/>
    <line x1="${PAD.l}" x2="${PAD.l}" y1="${PAD.t}" y2="${H - PAD.b}" class="axis"/>
    <text x="${(PAD.l + W - PAD.r) / 2}" y="${H - 6}" text-anchor="middle" class="label">${esc(xKey)}</text>
    <text x="14" y="${(PAD.t + H - PAD.b) / 2}" text-anchor="middle" class="label" transform="rotate(-90 14 ${(PAD.t + H - PAD.b) / 2})">${esc(yKey)}</text>
    ${dots}</svg>`;
}
