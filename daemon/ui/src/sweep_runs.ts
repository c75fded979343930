// A sweep's runs table: run link, state (with a "stopped early" badge whose
// title is the reason), a column per parameter, the metric's last and best
// values, iterations and agent. A header click sorts (again: reverses); the
// sort survives live re-renders.

import type { Json, Sweep, SweepRun } from "./api";
import { badge, el } from "./dom";
import { cmpValues, fmtNum, fmtValue, runHref } from "./format";
import { isNum, paramOf } from "./sweep_data";

interface Column {
  col: string;
  label: string;
  num?: boolean;
  value: (r: SweepRun, i: number) => Json | undefined;
  cell: (r: SweepRun, i: number) => HTMLTableCellElement;
}

const text = (v: Json | undefined, cls = "") => {
  const s = v === undefined || v === null ? "" : typeof v === "number" ? fmtNum(v) : fmtValue(v);
  return el("td", { class: cls || null, title: s || null }, s || el("span", { class: "muted" }, "–"));
};

function columns(sw: Sweep): Column[] {
  const metric = sw.metric?.name ?? "metric";
  const best = sw.best?.run_id;
  return [
    { col: "order", label: "#", num: true, value: (_, i) => i + 1, cell: (_, i) => text(i + 1, "num muted") },
    {
      col: "name",
      label: "Run",
      value: (r) => r.name || r.id,
      cell: (r) =>
        el(
          "td",
          { class: "c-name" },
          r.state === "pending"
            ? el("span", { class: "mono muted", title: "not started yet" }, r.id)
            : el("a", { href: runHref(r.id), title: r.id, "data-testid": "sweep-run-link" }, r.name || r.id),
          r.id === best ? el("span", { class: "best-star", title: "best run of the sweep" }, " ★") : null,
        ),
    },
    {
      col: "state",
      label: "State",
      value: (r) => r.state,
      cell: (r) =>
        el(
          "td",
          { "data-testid": "state" },
          badge(r.state),
          r.stopped
            ? el("span", { class: "badge stopped", "data-testid": "stopped", title: r.stop_reason || "stopped early" }, "stopped early")
            : null,
        ),
    },
    ...sw.parameters.map(
      (p): Column => ({
        col: `param:${p}`,
        label: p,
        value: (r) => paramOf(r, p),
        cell: (r) => text(paramOf(r, p), isNum(paramOf(r, p)) ? "num" : ""),
      }),
    ),
    { col: "metric", label: `${metric} (last)`, num: true, value: (r) => r.metric, cell: (r) => text(r.metric, "num") },
    {
      col: "best",
      label: `${metric} (best)`,
      num: true,
      value: (r) => r.best,
      cell: (r) => text(r.best, r.id === best ? "num best" : "num"),
    },
    { col: "iterations", label: "Iterations", num: true, value: (r) => r.iterations, cell: (r) => text(r.iterations, "num") },
    { col: "agent", label: "Agent", value: (r) => r.agent, cell: (r) => text(r.agent, "muted") },
  ];
}

export class SweepRunsTable {
  readonly table = el("table", { class: "runs", "data-testid": "sweep-runs" });
  private sort = { col: "order", desc: false };
  private sw: Sweep | null = null;

  constructor() {
    this.table.addEventListener("click", (e) => {
      const th = (e.target as Element).closest<HTMLElement>("th[data-col]");
      const col = th?.dataset.col;
      if (!col) return;
      this.sort = this.sort.col === col ? { col, desc: !this.sort.desc } : { col, desc: false };
      if (this.sw) this.render(this.sw);
    });
  }

  render(sw: Sweep): void {
    this.sw = sw;
    const cols = columns(sw);
    const col = cols.find((c) => c.col === this.sort.col) ?? (cols[0] as Column);
    const rows = sw.runs.map((r, i) => ({ r, i, v: col.value(r, i) }));
    rows.sort((a, b) => {
      const missA = a.v === undefined || a.v === null || a.v === "";
      const missB = b.v === undefined || b.v === null || b.v === "";
      if (missA || missB) return missA === missB ? a.i - b.i : missA ? 1 : -1;
      const c = cmpValues(a.v, b.v);
      return (this.sort.desc ? -c : c) || a.i - b.i;
    });
    const head = el(
      "tr",
      {},
      cols.map((c) =>
        el(
          "th",
          {
            "data-col": c.col,
            class: `sortable${c.num ? " num" : ""}${c.col === col.col ? " sorted" : ""}`,
            "data-sort": c.col === col.col ? (this.sort.desc ? "desc" : "asc") : null,
            title: c.label,
          },
          c.col.startsWith("param:") ? el("span", { class: "pfx" }, "param ") : null,
          c.label,
          c.col === col.col ? (this.sort.desc ? " ▼" : " ▲") : "",
        ),
      ),
    );
    const body = rows.map(({ r, i }) =>
      el(
        "tr",
        { "data-run-id": r.id, class: r.id === sw.best?.run_id ? "best-row" : null },
        cols.map((c) => c.cell(r, i)),
      ),
    );
    if (body.length === 0)
      body.push(el("tr", { class: "empty" }, el("td", { colspan: cols.length }, "No runs yet: start an agent with `tracklab agent " + sw.id + "`.")));
    this.table.replaceChildren(el("thead", {}, head), el("tbody", {}, body));
  }
}
