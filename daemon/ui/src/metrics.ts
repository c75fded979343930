// define_metric definitions: which one applies to a history key.

import type { MetricDef, RunDoc } from "./api";
import { mediaKeys } from "./media";

/**
 * The definition of `key`: the one named as the key, else the longest glob
 * (`train/*`) that prefix-matches it; globs never match internal `_` keys
 * (as the daemon expands them).
 */
export function metricDef(metrics: MetricDef[] | undefined, key: string): MetricDef | undefined {
  if (!metrics) return undefined;
  const named = metrics.find((m) => !m.glob && m.name === key);
  if (named) return named;
  if (key.startsWith("_")) return undefined;
  let best: MetricDef | undefined;
  for (const m of metrics) {
    if (!m.glob) continue;
    const prefix = m.name.endsWith("*") ? m.name.slice(0, -1) : m.name;
    if (key.startsWith(prefix) && (!best || m.name.length > best.name.length)) best = m;
  }
  return best;
}

const mediaOf = new WeakMap<RunDoc, Set<string>>();

/** Whether a history key gets a chart: not internal, not hidden, not media (a summary value with `_type`). */
export function charted(doc: RunDoc, key: string): boolean {
  let media = mediaOf.get(doc);
  if (!media) {
    media = new Set(mediaKeys(doc.summary).keys());
    mediaOf.set(doc, media);
  }
  return !key.startsWith("_") && !metricDef(doc.metrics, key)?.hidden && !media.has(key);
}

/** Whether a system-metrics key gets a chart (not `system/_timestamp` and the like). */
export function chartedSystem(key: string): boolean {
  return !key.slice(key.indexOf("/") + 1).startsWith("_");
}

/** The step metrics (define_metric step_metric) used by a run's definitions. */
export function stepMetrics(doc: RunDoc): string[] {
  return [...new Set((doc.metrics ?? []).map((m) => m.step_metric).filter((s) => !!s))];
}
