// Formatting helpers: HTML escaping, times, durations, values, flat keys.

import type { Json } from "./api";

const ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function esc(s: unknown): string {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ESC[c] ?? c);
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** Microseconds since the epoch as local `YYYY-MM-DD HH:MM:SS`. */
export function fmtTime(us: number): string {
  if (!us) return "";
  const d = new Date(us / 1000);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** Seconds as `12.5s`, `3m 05s`, `2h 03m`, `1d 04h`. */
export function fmtDuration(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s) || s < 0) return "";
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad(Math.floor(s % 60))}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${pad(m % 60)}m`;
  return `${Math.floor(h / 24)}d ${pad(h % 24)}h`;
}

/** A number, short: integers whole, others with 4 significant digits. */
export function fmtNum(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e6) return String(Number(x.toPrecision(4)));
  return x.toExponential(3).replace(/\.?0+e/, "e");
}

/** Any JSON value for a table cell. */
export function fmtValue(v: Json | undefined): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return fmtNum(v);
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "true" : "false";
  return JSON.stringify(v);
}

/** A name as a flat-key part: a literal `.` is written `\.`. */
export const keyPart = (name: string) => name.replace(/\./g, "\\.");

/**
 * A nested object as flat `[key, value]` pairs (nested names joined with
 * `.`), sorted by key; lists stay values, and so do objects `leaf` accepts.
 */
export function flatten(obj: Record<string, Json> | null | undefined, leaf?: (v: Json) => boolean): [string, Json][] {
  const out: [string, Json][] = [];
  const walk = (o: Record<string, Json>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      const key = prefix + keyPart(k);
      const nested = v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0;
      if (nested && !leaf?.(v)) walk(v, key + ".");
      else out.push([key, v]);
    }
  };
  if (obj) walk(obj, "");
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** A shell word, quoted when needed. */
export function shellQuote(s: string): string {
  if (s !== "" && /^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function stateBadge(state: string, testid = ""): string {
  const t = testid ? ` data-testid="${testid}"` : "";
  return `<span class="badge st-${esc(state)}"${t}>${esc(state)}</span>`;
}

/** A registered model's stage (`None`, `Staging`, `Production`, `Archived`) as a badge. */
export function modelStageBadge(stage: string, testid = ""): string {
  const t = testid ? ` data-testid="${testid}"` : "";
  const cls = /^[A-Za-z]+$/.test(stage) ? ` stage-${stage.toLowerCase()}` : "";
  return `<span class="badge${cls}"${t}>${esc(stage)}</span>`;
}

/** Bytes as `512 B`, `1.5 KB`, `3.2 MB`, … (powers of 1024). */
export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  let x = n;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return i === 0 ? `${x} B` : `${x < 10 ? x.toFixed(1) : Math.round(x)} ${units[i]}`;
}

/** An artifact version as `name:v3`. */
export const artifactLabel = (a: { name: string; version: string }) => `${a.name}:${a.version}`;

/** Hash-route links. */
export const runHref = (id: string) => `#/run/${encodeURIComponent(id)}`;
export const sweepHref = (id: string) => `#/sweeps/${encodeURIComponent(id)}`;
export const modelHref = (name: string) => `#/models/${encodeURIComponent(name)}`;
/** `target`: a run id, `models:/NAME/VERSION|STAGE`, `models:/NAME@ALIAS` or `PROJECT/NAME[:VERSION]`. */
export const lineageHref = (target: string) => `#/lineage/${encodeURIComponent(target)}`;

/** Natural compare for mixed values: numbers numerically, then strings; missing last. */
export function cmpValues(a: unknown, b: unknown): number {
  const ma = a === null || a === undefined || a === "";
  const mb = b === null || b === undefined || b === "";
  if (ma || mb) return ma === mb ? 0 : ma ? 1 : -1;
  const na = typeof a === "number" ? a : typeof a === "boolean" ? +a : NaN;
  const nb = typeof b === "number" ? b : typeof b === "boolean" ? +b : NaN;
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  if (!Number.isNaN(na)) return -1;
  if (!Number.isNaN(nb)) return 1;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/** Distinct colours for runs (index order). */
export const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
  "#393b79", "#ad494a", "#637939", "#8c6d31", "#7b4173",
];
export const color = (i: number) => PALETTE[i % PALETTE.length] as string;

/** `#rrggbb` with an alpha. */
export function fade(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}
