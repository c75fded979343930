// What the sweep views share: a run's metric value, parameter values, axis
// scales (numeric min..max or evenly spaced categories) and the colour ramp.

import type { Json, Sweep, SweepRun } from "./api";
import { cmpValues, fmtNum, fmtValue } from "./format";
import { ticks } from "./hparams";

/** A run's value of the sweep metric: its best (goal-aware), else the last logged. */
export const runValue = (r: SweepRun): number | null => r.best ?? r.metric;

/** A run's value of a flat parameter (undefined when it has none). */
export const paramOf = (r: SweepRun, name: string): Json | undefined => r.flat_params[name];

export const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** `loss ↓` / `acc ↑`. */
export const metricLabel = (m: NonNullable<Sweep["metric"]>) => `${m.name} ${m.goal === "maximize" ? "↑" : "↓"}`;

/** Maps values onto [0, 1] (0 = bottom of an axis). */
export interface Scale {
  kind: "numeric" | "categorical";
  /** Position of a value in [0, 1], null when it has none. */
  pos(v: Json | undefined): number | null;
  /** Labelled positions. */
  ticks: { at: number; label: string }[];
}

/**
 * Numeric when every present value is a finite number (min..max, a constant
 * axis in the middle), else categorical: the distinct values in natural
 * order, evenly spaced.
 */
export function scaleOf(values: (Json | undefined)[]): Scale {
  const present = values.filter((v) => v !== undefined && v !== null);
  if (present.length > 0 && present.every(isNum)) {
    const nums = present as number[];
    const lo = Math.min(...nums);
    const hi = Math.max(...nums);
    if (hi === lo) return { kind: "numeric", pos: (v) => (isNum(v) ? 0.5 : null), ticks: [{ at: 0.5, label: fmtNum(lo) }] };
    const pos = (v: Json | undefined) => (isNum(v) ? (v - lo) / (hi - lo) : null);
    const inner = ticks(lo, hi, 4)
      .map((t) => ({ at: (t - lo) / (hi - lo), label: fmtNum(t) }))
      .filter((t) => t.at > 0.12 && t.at < 0.88);
    return {
      kind: "numeric",
      pos,
      ticks: [{ at: 0, label: fmtNum(lo) }, ...inner, { at: 1, label: fmtNum(hi) }],
    };
  }
  const cats = [...new Map(present.map((v) => [fmtValue(v), v])).entries()].sort((a, b) => cmpValues(a[1], b[1]));
  const index = new Map(cats.map(([k], i) => [k, i]));
  const at = (i: number) => (i + 0.5) / cats.length;
  return {
    kind: "categorical",
    pos: (v) => {
      if (v === undefined || v === null) return null;
      const i = index.get(fmtValue(v));
      return i === undefined ? null : at(i);
    },
    ticks: cats.map(([k], i) => ({ at: at(i), label: k })),
  };
}

// Viridis, dark purple to yellow-green (the palest yellow left out so lines
// stay visible on white).
const RAMP = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b"];

/** A colour for `t` in [0, 1]: 0 = the best run (dark), 1 = the worst. */
export function ramp(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const a = parseInt((RAMP[i] as string).slice(1), 16);
  const b = parseInt((RAMP[i + 1] as string).slice(1), 16);
  const mix = (shift: number) => Math.round(((a >> shift) & 255) * (1 - f) + ((b >> shift) & 255) * f);
  return `rgb(${mix(16)},${mix(8)},${mix(0)})`;
}

/** How good a value is among `values`: 0 = best, 1 = worst (goal-aware); 0.5 when all equal. */
export function badness(sw: Sweep, values: number[]): (v: number) => number {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const max = sw.metric?.goal === "maximize";
  return (v) => (hi === lo ? 0.5 : max ? (hi - v) / (hi - lo) : (v - lo) / (hi - lo));
}
