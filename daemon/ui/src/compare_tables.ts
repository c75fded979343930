// The tables of `GET /api/v1/compare` (the JSON of `tracklab compare --json`):
// config differences and the best run per metric. Unknown shapes fall back
// to a generic rendering.

import type { CompareJson, Json } from "./api";
import { esc, fmtValue } from "./format";

const MISSING = '<span class="muted">–</span>';

function runHeads(c: CompareJson, colorOf: (id: string) => string): string {
  return c.runs
    .map(
      (r) =>
        `<th class="run-col"><i class="swatch" style="background:${colorOf(r.id)}"></i><a href="#/run/${encodeURIComponent(
          r.id,
        )}">${esc(r.name || r.id)}</a></th>`,
    )
    .join("");
}

function isCompareJson(c: unknown): c is CompareJson {
  const o = c as CompareJson;
  return !!o && Array.isArray(o.runs) && Array.isArray(o.config) && Array.isArray(o.metrics);
}

/** `<table data-testid="config-diff">` inner HTML. */
export function configDiffHtml(c: unknown, colorOf: (id: string) => string): string {
  if (!isCompareJson(c)) return generic((c as Record<string, Json>)?.config ?? c);
  const head = `<thead><tr><th>key</th>${runHeads(c, colorOf)}</tr></thead>`;
  if (c.config.length === 0)
    return `${head}<tbody><tr><td colspan="${c.runs.length + 1}" class="muted">(no differences)</td></tr></tbody>`;
  const rows = c.config
    .map(
      (r) =>
        `<tr><th title="${esc(r.key)}">${esc(r.key)}</th>${r.values
          .map((v) => `<td>${v === null || v === undefined ? MISSING : esc(v)}</td>`)
          .join("")}</tr>`,
    )
    .join("");
  return `${head}<tbody>${rows}</tbody>`;
}

/** `<table data-testid="best-runs">` inner HTML. */
export function bestRunsHtml(c: unknown, colorOf: (id: string) => string): string {
  if (!isCompareJson(c)) return generic((c as Record<string, Json>)?.metrics ?? c);
  const head = `<thead><tr><th>metric</th><th title="goal">goal</th>${runHeads(c, colorOf)}<th>best</th></tr></thead>`;
  if (c.metrics.length === 0)
    return `${head}<tbody><tr><td colspan="${c.runs.length + 3}" class="muted">(no metrics)</td></tr></tbody>`;
  const names = new Map(c.runs.map((r) => [r.id, r.name || r.id]));
  const rows = c.metrics
    .map((m) => {
      const bestIdx = m.best_run === null ? -1 : c.runs.findIndex((r) => r.id === m.best_run);
      const cells = m.values
        .map((v, i) =>
          v === null || v === undefined
            ? `<td>${MISSING}</td>`
            : `<td class="num${i === bestIdx ? " best" : ""}">${esc(fmtValue(v))}${i === bestIdx ? " ★" : ""}</td>`,
        )
        .join("");
      const goal = m.goal === "min" ? "↓ min" : m.goal === "max" ? "↑ max" : "";
      const best = m.best_run
        ? `<i class="swatch" style="background:${colorOf(m.best_run)}"></i>${esc(names.get(m.best_run) ?? m.best_run)}`
        : MISSING;
      return `<tr data-metric="${esc(m.key)}"><th title="${esc(m.key)}">${esc(m.key)}</th><td class="muted">${goal}</td>${cells}<td class="best-run">${best}</td></tr>`;
    })
    .join("");
  return `${head}<tbody>${rows}</tbody>`;
}

/** Any JSON as table rows (arrays of objects become rows with their fields as columns). */
function generic(v: unknown): string {
  if (Array.isArray(v) && v.every((x) => x && typeof x === "object" && !Array.isArray(x))) {
    const cols = [...new Set(v.flatMap((x) => Object.keys(x as object)))];
    return `<thead><tr>${cols.map((c) => `<th>${esc(c)}</th>`).join("")}</tr></thead><tbody>${v
      .map(
        (x) =>
          `<tr>${cols.map((c) => `<td>${esc(fmtValue((x as Record<string, Json>)[c] ?? null))}</td>`).join("")}</tr>`,
      )
      .join("")}</tbody>`;
  }
  return `<tbody><tr><td><pre>${esc(JSON.stringify(v, null, 2))}</pre></td></tr></tbody>`;
}
