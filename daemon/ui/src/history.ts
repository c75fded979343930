// History series as the charts hold them, fetched several keys per request.

import { api, num, type HistoryOptions, type Series } from "./api";
import { pool } from "./page";

/** Points per chart line asked from the server (it downsamples, keeping spikes). */
export const MAX_POINTS = 1500;

/** Keys per `/history` request (keeps URLs short). */
const KEYS_PER_REQUEST = 16;

/** One run's series of one key. */
export interface SeriesData {
  /** x values to plot (steps, or the `x` series' values). */
  x: number[];
  y: (number | null)[];
  /** The last step held (-Infinity for none): live updates ask from the next one. */
  lastStep: number;
  /** Points on the server in the asked range before downsampling. */
  total: number;
}

export const emptySeries = (): SeriesData => ({ x: [], y: [], lastStep: -Infinity, total: 0 });

/** `_timestamp` in seconds, whatever unit it came in (s, ms or µs). */
function seconds(v: number): number {
  const a = Math.abs(v);
  return a > 1e14 ? v / 1e6 : a > 1e11 ? v / 1e3 : v;
}

function toSeriesData(s: Series, xKey: string): SeriesData {
  const ys = s.values.map(num);
  let lastStep = -Infinity;
  for (const st of s.steps) if (st > lastStep) lastStep = st;
  if (!xKey) return { x: s.steps.slice(), y: ys, lastStep, total: s.total_points };
  const x: number[] = [];
  const y: (number | null)[] = [];
  const raw = s.x ?? [];
  for (let i = 0; i < s.steps.length; i++) {
    let xv = num(raw[i] ?? null);
    if (xv === null || !Number.isFinite(xv)) continue;
    if (xKey.endsWith("_timestamp")) xv = seconds(xv);
    x.push(xv);
    y.push(ys[i] ?? null);
  }
  return { x, y, lastStep, total: s.total_points };
}

/**
 * Loads `keys` of one run, plotted against `xKey` ("" = step), as a map
 * key → series (keys the server does not return are absent).
 */
export async function loadSeries(
  runId: string,
  keys: string[],
  xKey: string,
  opt: Omit<HistoryOptions, "x">,
  signal: AbortSignal,
): Promise<Map<string, SeriesData>> {
  const chunks: string[][] = [];
  for (let i = 0; i < keys.length; i += KEYS_PER_REQUEST) chunks.push(keys.slice(i, i + KEYS_PER_REQUEST));
  const results = await pool(
    4,
    chunks.map(
      (chunk) => () =>
        api.history(runId, chunk, { maxPoints: MAX_POINTS, ...opt, ...(xKey ? { x: xKey } : {}) }, signal),
    ),
  );
  const out = new Map<string, SeriesData>();
  for (const series of results) for (const s of series) out.set(s.key, toSeriesData(s, xKey));
  return out;
}

/** Appends newer points (steps after `into.lastStep`) in place. */
export function appendSeries(into: SeriesData, more: SeriesData): void {
  if (more.lastStep <= into.lastStep) return;
  // The server answered min_step = lastStep + 1, so every point is new.
  for (let i = 0; i < more.x.length; i++) {
    into.x.push(more.x[i] as number);
    into.y.push(more.y[i] ?? null);
  }
  into.total += more.total;
  into.lastStep = more.lastStep;
}
