// Media values (/tmp media spec: JSON dicts with `_type` in history and
// the summary): which keys hold media, their short labels, lenient JSON,
// and a DOM builder that never parses data as HTML.

import { api, type Json } from "./api";
import { keyPart } from "./format";

/** A media value: a JSON object with a string `_type` (`image-file`, `table-file`, …). */
export type MediaValue = { _type: string } & { [k: string]: Json };

/** One logged value of a media key. */
export interface MediaPoint {
  step: number;
  value: MediaValue;
}

/** `v` as a media value: an object with a string `_type`, or JSON text of one. */
export function asMedia(v: Json | undefined): MediaValue | null {
  if (typeof v === "string" && v.startsWith("{") && v.includes('"_type"')) {
    // A value the daemon could not parse as strict JSON (NaN inside).
    try {
      v = parseLooseJson(v);
    } catch {
      return null;
    }
  }
  if (v !== null && typeof v === "object" && !Array.isArray(v) && typeof v._type === "string") {
    return v as MediaValue;
  }
  return null;
}

/**
 * The media keys of a run: every value with `_type` in its nested summary
 * (the latest value of each history key), by flat key (nested names joined
 * with `.`, a literal `.` written `\.`, as the history keys are).
 */
export function mediaKeys(summary: Record<string, Json> | null | undefined): Map<string, MediaValue> {
  const out = new Map<string, MediaValue>();
  const walk = (o: Record<string, Json>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      const key = prefix + keyPart(k);
      const m = asMedia(v);
      if (m) out.set(key, m);
      else if (v !== null && typeof v === "object" && !Array.isArray(v)) walk(v, key + ".");
    }
  };
  if (summary) walk(summary, "");
  return out;
}

/** Whether a value is a media value (a leaf when flattening the summary). */
export const isMedia = (v: Json): boolean => asMedia(v) !== null;

/** A media value in a few words, for the summary table. */
export function mediaLabel(m: MediaValue): string {
  const n = (k: string) => (typeof m[k] === "number" ? (m[k] as number) : null);
  switch (m._type) {
    case "image-file":
      return n("width") !== null ? `image ${n("width")}×${n("height")}` : "image";
    case "images/separated":
      return `${n("count") ?? "?"} images`;
    case "table-file":
      return n("nrows") !== null ? `table ${n("nrows")} rows × ${n("ncols")} cols` : "table";
    case "histogram":
      return `histogram, ${Array.isArray(m.values) ? m.values.length : "?"} bins`;
    case "audio-file":
      return "audio";
    case "html-file":
      return "html";
    case "plotly-file":
      return "plotly figure";
    case "plot":
      return `${typeof m.kind === "string" ? m.kind : ""} chart`.trim();
    default:
      return m._type;
  }
}

/** A string field, or "". */
export const str = (v: Json | undefined): string => (typeof v === "string" ? v : "");

/** A number field (NaN/inf strings decoded), or null. */
export function numOf(v: Json | undefined): number | null {
  if (typeof v === "number") return v;
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return null;
}

/**
 * JSON that may hold the bare tokens `NaN`, `Infinity` and `-Infinity`
 * (Python's `json.dumps` writes them): they become the strings the API uses
 * for them ("NaN", "Infinity", "-Infinity").
 */
export function parseLooseJson(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    if (!/NaN|Infinity/.test(text)) throw e;
  }
  let out = "";
  let i = 0;
  let start = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      // Skip the string, escapes included.
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      i++;
      continue;
    }
    const token = text.startsWith("-Infinity", i)
      ? "-Infinity"
      : text.startsWith("Infinity", i)
        ? "Infinity"
        : text.startsWith("NaN", i)
          ? "NaN"
          : null;
    if (token) {
      out += `${text.slice(start, i)}"${token}"`;
      i += token.length;
      start = i;
      continue;
    }
    i++;
  }
  return JSON.parse(out + text.slice(start)) as Json;
}

type Attrs = Record<string, string | number | boolean | undefined>;

/**
 * `document.createElement` with attributes (set as attributes, `class` and
 * `text` special) and children (strings become text nodes).
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === "class") e.className = String(v);
    else if (k === "text") e.textContent = String(v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

/** A notice inside a media panel (a missing file, a figure it cannot draw). */
export function mediaNote(text: string, cls = "media-note"): HTMLElement {
  return el("div", { class: cls, text });
}

/** Parsed JSON files by run and path (media files never change: their names hold their digest). */
const fileCache = new Map<string, Promise<Json>>();
const FILE_CACHE_SIZE = 24;

/** A stored JSON file of a run (a table, a plotly figure), parsed leniently; cached. */
export function loadJsonFile(runId: string, path: string, signal: AbortSignal): Promise<Json> {
  const k = `${runId}\u0000${path}`;
  let p = fileCache.get(k);
  if (!p) {
    p = api.fileText(runId, path, signal).then(parseLooseJson);
    // A failed or aborted fetch is not kept.
    p.catch(() => fileCache.delete(k));
    fileCache.set(k, p);
    while (fileCache.size > FILE_CACHE_SIZE) fileCache.delete(fileCache.keys().next().value as string);
  }
  return p;
}

/** A table file's contents: column names and rows. */
export interface TableData {
  columns: string[];
  data: Json[][];
}

/** A table file's JSON (`{"columns": [...], "data": [[...], ...]}`) checked. */
export function asTable(j: Json): TableData {
  if (j === null || typeof j !== "object" || Array.isArray(j) || !Array.isArray(j.data)) {
    throw new Error("not a table file (no data)");
  }
  const rows = j.data.map((r) => (Array.isArray(r) ? r : [r]));
  const width = rows.reduce((n, r) => Math.max(n, r.length), 0);
  const cols = Array.isArray(j.columns) ? j.columns.map((c) => (typeof c === "string" ? c : JSON.stringify(c))) : [];
  while (cols.length < width) cols.push(String(cols.length));
  return { columns: cols, data: rows };
}
