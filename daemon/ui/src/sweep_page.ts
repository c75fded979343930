// #/sweeps/<id>: one sweep: its settings, the runs table, parallel
// coordinates, parameter importance and the best value so far, and buttons
// that pause, resume, finish or cancel it. Live: the document is read again
// on the project's `run` events for the sweep's runs, and every few seconds
// while runs are pending or running.

import { api, subscribe, type Sweep, type SweepAction } from "./api";
import { bestSoFar } from "./best_so_far";
import { badge, el } from "./dom";
import { fmtNum, fmtTime, runHref } from "./format";
import { isAbort, setCrumbs, throttle, type Page } from "./page";
import { parallelCoords } from "./parallel_coords";
import { importancePanel } from "./param_importance";
import { metricLabel } from "./sweep_data";
import { SweepRunsTable } from "./sweep_runs";

/** Milliseconds between reads while the sweep has runs pending or running. */
const POLL_MS = 4000;

const fact = (label: string, value: Node | string, testid = "") =>
  el("span", { "data-testid": testid || null }, el("span", { class: "muted" }, `${label} `), value);

/** `6 runs: 4 finished, 2 running`. */
function runCounts(sw: Sweep): string {
  const by = new Map<string, number>();
  for (const r of sw.runs) by.set(r.state, (by.get(r.state) ?? 0) + 1);
  const parts = [...by].map(([s, n]) => `${n} ${s}`);
  return `${sw.runs.length} run${sw.runs.length === 1 ? "" : "s"}${parts.length ? `: ${parts.join(", ")}` : ""}`;
}

const active = (sw: Sweep) => sw.runs.some((r) => r.state === "pending" || r.state === "running");

/** The state changes offered in each state; none once finished or cancelled. */
const ACTIONS: Partial<Record<string, SweepAction[]>> = {
  running: ["pause", "finish", "cancel"],
  paused: ["resume", "finish", "cancel"],
};

/** Each change's button label, hover text and what the status says while it is sent. */
const ACTION_TEXT: Record<SweepAction, { label: string; title: string; doing: string }> = {
  pause: { label: "Pause", title: "Hand out no new runs until resumed", doing: "Pausing…" },
  resume: { label: "Resume", title: "Hand out runs again", doing: "Resuming…" },
  finish: { label: "Finish", title: "Stop handing out runs (running ones go on)", doing: "Finishing…" },
  cancel: { label: "Cancel", title: "Stop handing out runs and stop running ones", doing: "Cancelling…" },
};

/**
 * The header's state buttons (`sweep-pause`, `sweep-resume`, `sweep-finish`,
 * `sweep-cancel`) for the sweep's state, and `status` (progress or the
 * server's error); null when there is neither.
 */
function controls(sw: Sweep, busy: boolean, status: HTMLElement, act: (a: SweepAction) => void): HTMLElement | null {
  const actions = ACTIONS[sw.state] ?? [];
  if (actions.length === 0 && !status.textContent) return null;
  const buttons = actions.map((a) => {
    const t = ACTION_TEXT[a];
    const b = el(
      "button",
      {
        type: "button",
        class: a === "cancel" ? "btn danger" : "btn",
        title: t.title,
        "data-testid": `sweep-${a}`,
        disabled: busy,
      },
      t.label,
    );
    b.addEventListener("click", () => act(a));
    return b;
  });
  return el("span", { class: "sweep-controls", "data-testid": "sweep-controls" }, buttons, status);
}

function header(sw: Sweep, ctl: HTMLElement | null): HTMLElement {
  const facts = el(
    "div",
    { class: "facts" },
    el("span", { class: "mono", title: "sweep id" }, sw.id),
    fact("project", el("a", { href: `#/p/${encodeURIComponent(sw.project)}` }, sw.project)),
    fact("method", sw.method, "sweep-method"),
    sw.metric ? fact("metric", metricLabel(sw.metric), "sweep-metric") : fact("metric", "none", "sweep-metric"),
    sw.grid_size !== null ? fact("grid", `${sw.grid_size} combinations`, "sweep-grid") : null,
    sw.run_cap !== null ? fact("run cap", String(sw.run_cap), "sweep-run-cap") : null,
    sw.early_terminate
      ? fact(
          sw.early_terminate.type,
          `bands ${sw.early_terminate.bands.join(", ")} · eta ${sw.early_terminate.eta}${sw.early_terminate.strict ? " · strict" : ""}`,
          "sweep-hyperband",
        )
      : null,
    el("span", { title: "created" }, fmtTime(sw.created_us)),
    el("span", { "data-testid": "sweep-counts" }, runCounts(sw)),
    sw.method === "grid" && sw.grid_size !== null && sw.runs.length >= sw.grid_size && !active(sw)
      ? el("span", { class: "tag" }, "grid complete")
      : null,
  );
  const best = sw.best
    ? el(
        "div",
        { class: "sweep-best", "data-testid": "sweep-best" },
        el("span", { class: "muted" }, `best ${sw.metric?.name ?? ""} `),
        el("b", {}, fmtNum(sw.best.value)),
        " in ",
        el(
          "a",
          { href: runHref(sw.best.run_id), "data-testid": "best-run" },
          sw.runs.find((r) => r.id === sw.best?.run_id)?.name || sw.best.run_id,
        ),
      )
    : null;
  const config = el(
    "details",
    { class: "reqs" },
    el("summary", {}, "sweep config"),
    el("pre", {}, JSON.stringify(sw.config, null, 2)),
  );
  return el(
    "div",
    { class: "run-header" },
    el("h1", {}, sw.name || sw.id),
    badge(sw.state, "sweep-state"),
    ctl,
    facts,
    best,
    config,
  );
}

const card = (title: string, cls: string, body: Node) => el("section", { class: `card ${cls}` }, el("h3", {}, title), body);

export async function renderSweepPage(page: Page, id: string): Promise<void> {
  setCrumbs([["Sweeps", "#/sweeps"], [id]]);
  let sw: Sweep;
  try {
    sw = await api.sweep(id, page.signal);
  } catch (e) {
    return page.fail(e);
  }
  if (!page.alive) return;
  setCrumbs([["Sweeps", "#/sweeps"], [sw.project, `#/p/${encodeURIComponent(sw.project)}`], [sw.name || sw.id]]);

  const table = new SweepRunsTable();
  const head = el("div");
  const pc = el("div", { class: "pc-wrap" });
  const imp = el("div");
  const bsf = el("div", { class: "bsf-wrap" });
  const root = el(
    "div",
    { class: "sweep-page", "data-testid": "sweep-page" },
    head,
    card("Runs", "sweep-runs-card", el("div", { class: "table-wrap" }, table.table)),
    card("Parallel coordinates", "pc-card", pc),
    el(
      "div",
      { class: "sweep-grid" },
      card("Parameter importance", "imp-card", imp),
      card("Best so far", "bsf-card", bsf),
    ),
  );
  page.root.append(root);

  // State changes: one at a time; `changes` counts them so that a live read
  // begun before or during one does not draw the state it replaced.
  const status = el("span", { class: "sweep-control-status muted", role: "status", "data-testid": "sweep-control-status" });
  let busy = false;
  let changes = 0;
  const drawHead = () => head.replaceChildren(header(sw, controls(sw, busy, status, act)));
  const act = async (action: SweepAction) => {
    if (busy || !page.alive) return;
    if (
      action === "cancel" &&
      !confirm(`Cancel sweep ${sw.name || sw.id}? It hands out no more runs and its agents stop the runs still running.`)
    )
      return;
    busy = true;
    changes++;
    status.classList.remove("error");
    status.textContent = ACTION_TEXT[action].doing;
    drawHead();
    try {
      const d = await api.setSweepState(id, action);
      busy = false;
      changes++;
      if (!page.alive) return;
      status.textContent = "";
      render(d, true);
    } catch (e) {
      busy = false;
      changes++;
      if (!page.alive) return;
      status.classList.add("error");
      status.textContent = `Not changed: ${e instanceof Error ? e.message : String(e)}`;
      drawHead();
    }
  };

  let shown = "";
  const render = (d: Sweep, force = false) => {
    const key = JSON.stringify(d);
    if (key === shown && !force) return;
    sw = d;
    drawHead();
    if (key === shown) return;
    shown = key;
    table.render(d);
    pc.replaceChildren(parallelCoords(d, pc.clientWidth));
    imp.replaceChildren(importancePanel(d));
    bsf.replaceChildren(bestSoFar(d));
  };
  render(sw);
  page.ready();

  // The parallel coordinates are drawn to the card's width.
  let drawnWidth = pc.clientWidth;
  const onResize = throttle(200, () => {
    if (!page.alive || pc.clientWidth === drawnWidth) return;
    drawnWidth = pc.clientWidth;
    pc.replaceChildren(parallelCoords(sw, drawnWidth));
  });
  window.addEventListener("resize", onResize);
  page.onDispose(() => window.removeEventListener("resize", onResize));

  // Live.
  const refresh = throttle(1000, async () => {
    const seen = changes;
    try {
      const d = await api.sweep(id, page.signal);
      if (page.alive && !busy && seen === changes) render(d);
    } catch (e) {
      if (!isAbort(e)) console.error(e);
    }
  });
  page.onDispose(
    subscribe(sw.project, {
      run: (row) => {
        if (row.sweep === id || sw.runs.some((r) => r.id === row.id)) refresh();
      },
      reconnect: refresh,
    }),
  );
  const timer = setInterval(() => {
    if (active(sw)) refresh();
  }, POLL_MS);
  page.onDispose(() => clearInterval(timer));
}
