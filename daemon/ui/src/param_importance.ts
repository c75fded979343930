// Parameter importance, like wandb's panel but from correlations: for each
// parameter, its correlation with the metric over the finished runs
// (Pearson's r for numeric parameters, the correlation ratio η, unsigned,
// for categorical ones), and an importance = |correlation| normalised to
// sum to 1 over the parameters. wandb fits a random forest instead.

import type { Json, Sweep, SweepRun } from "./api";
import { el } from "./dom";
import { fmtValue } from "./format";
import { isNum, paramOf, runValue } from "./sweep_data";

export interface Importance {
  name: string;
  kind: "numeric" | "categorical";
  /** Pearson r (signed) or η (≥ 0); null when undefined (a constant parameter or metric, too few runs). */
  correlation: number | null;
  /** |correlation| / Σ |correlation|, or null. */
  importance: number | null;
  runs: number;
}

/** Pearson's r, null when either side is constant. */
export function pearson(xs: number[], ys: number[]): number | null {
  const n = xs.length;
  if (n < 2) return null;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    const dy = (ys[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx <= 0 || syy <= 0) return null;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** The correlation ratio η of `ys` grouped by `groups`: sqrt(between-group / total sum of squares). */
export function eta(groups: string[], ys: number[]): number | null {
  const n = ys.length;
  if (n < 2) return null;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const by = new Map<string, number[]>();
  groups.forEach((g, i) => {
    const list = by.get(g);
    if (list) list.push(ys[i] as number);
    else by.set(g, [ys[i] as number]);
  });
  if (by.size < 2) return null;
  let total = 0;
  for (const y of ys) total += (y - my) ** 2;
  if (total <= 0) return null;
  let between = 0;
  for (const list of by.values()) {
    const m = list.reduce((a, b) => a + b, 0) / list.length;
    between += list.length * (m - my) ** 2;
  }
  return Math.min(1, Math.sqrt(between / total));
}

/** The runs the panel uses: finished, with a finite metric value. */
export const scoredRuns = (sw: Sweep): SweepRun[] => sw.runs.filter((r) => r.state === "finished" && runValue(r) !== null);

export function importances(sw: Sweep): Importance[] {
  const runs = scoredRuns(sw);
  const out: Importance[] = sw.parameters.map((name) => {
    const pairs = runs
      .map((r) => [paramOf(r, name), runValue(r) as number] as [Json | undefined, number])
      .filter(([x]) => x !== undefined && x !== null);
    const ys = pairs.map(([, y]) => y);
    const numeric = pairs.length > 0 && pairs.every(([x]) => isNum(x));
    const correlation = numeric
      ? pearson(
          pairs.map(([x]) => x as number),
          ys,
        )
      : eta(
          pairs.map(([x]) => fmtValue(x ?? null)),
          ys,
        );
    return { name, kind: numeric ? "numeric" : "categorical", correlation, importance: null, runs: pairs.length };
  });
  const sum = out.reduce((a, p) => a + Math.abs(p.correlation ?? 0), 0);
  if (sum > 0) for (const p of out) if (p.correlation !== null) p.importance = Math.abs(p.correlation) / sum;
  return out.sort((a, b) => (b.importance ?? -1) - (a.importance ?? -1) || a.name.localeCompare(b.name));
}

const fmt2 = (x: number) => x.toFixed(2);

/** The panel's body: a table of parameters by importance, and what the numbers mean. */
export function importancePanel(sw: Sweep): HTMLElement {
  const runs = scoredRuns(sw).length;
  const box = el("div", { class: "importance", "data-testid": "param-importance", "data-runs": runs });
  if (!sw.metric) {
    box.append(el("p", { class: "muted" }, "This sweep has no metric, so there is nothing to correlate with."));
    return box;
  }
  const rows = importances(sw).map((p) => {
    const bar = el("span", { class: "imp-bar" });
    bar.style.width = `${Math.round((p.importance ?? 0) * 100)}%`;
    const corr = p.correlation;
    const sign = corr === null || p.kind === "categorical" ? "" : corr > 0 ? "pos" : corr < 0 ? "neg" : "";
    return el(
      "tr",
      { "data-param": p.name, "data-kind": p.kind },
      el("th", { title: p.name }, p.name),
      el(
        "td",
        { class: "imp", "data-testid": "importance" },
        el("span", { class: "imp-track" }, bar),
        el("span", { class: "num" }, p.importance === null ? "–" : fmt2(p.importance)),
      ),
      el(
        "td",
        { class: `num corr ${sign}`, "data-testid": "correlation", title: p.kind === "numeric" ? "Pearson r" : "correlation ratio η (unsigned)" },
        corr === null ? "–" : p.kind === "numeric" ? (corr > 0 ? `+${fmt2(corr)}` : fmt2(corr)) : `η ${fmt2(corr)}`,
      ),
    );
  });
  box.append(
    el(
      "table",
      { class: "grid-table" },
      el("thead", {}, el("tr", {}, el("th", {}, "parameter"), el("th", {}, "importance"), el("th", {}, "correlation"))),
      el("tbody", {}, rows),
    ),
    el(
      "p",
      { class: "hint muted" },
      `Correlation-based, over ${runs} finished run${runs === 1 ? "" : "s"} (each run's best ${sw.metric.name}): ` +
        "Pearson's r for numeric parameters, the correlation ratio η (unsigned) for categorical ones; " +
        "importance is |correlation| normalised to sum to 1. wandb's importance comes from a random forest, " +
        "so values differ; a parameter that matters only together with another can show a low score here.",
    ),
  );
  if (runs < 3) box.prepend(el("p", { class: "message warn" }, "Fewer than 3 finished runs: these numbers mean little yet."));
  return box;
}
