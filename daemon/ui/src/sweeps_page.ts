// #/sweeps: every sweep, newest first (id, name, project, method, state,
// runs, metric and goal, best value with a link to its run, created), with
// a project filter. Live: read again on `run` events of sweep runs, and
// every few seconds while some sweep has runs pending or running.

import { api, subscribe, type Sweep } from "./api";
import { badge, el } from "./dom";
import { fmtNum, fmtTime, runHref, sweepHref } from "./format";
import { isAbort, setCrumbs, throttle, type Page } from "./page";
import { metricLabel } from "./sweep_data";

const POLL_MS = 5000;

/** The project filter, for the life of the tab ("" = all). */
let projectFilter = "";

const dash = () => el("span", { class: "muted" }, "–");

function row(sw: Sweep): HTMLTableRowElement {
  const running = sw.runs.filter((r) => r.state === "running").length;
  const bestRun = sw.best ? sw.runs.find((r) => r.id === sw.best?.run_id) : undefined;
  return el(
    "tr",
    { "data-sweep-id": sw.id },
    el("td", { class: "mono" }, el("a", { href: sweepHref(sw.id), "data-testid": "sweep-link" }, sw.id)),
    el("td", { class: "c-name", title: sw.name }, sw.name ? el("a", { href: sweepHref(sw.id) }, sw.name) : dash()),
    el("td", {}, el("a", { href: `#/p/${encodeURIComponent(sw.project)}` }, sw.project)),
    el("td", { "data-testid": "method" }, sw.method),
    el("td", {}, badge(sw.state, "sweep-state")),
    el(
      "td",
      { class: "num", "data-testid": "runs", "data-runs": sw.runs.length },
      String(sw.runs.length),
      sw.grid_size !== null ? el("span", { class: "muted" }, ` / ${sw.grid_size}`) : null,
      running ? el("span", { class: "muted" }, ` (${running} running)`) : null,
    ),
    el("td", { "data-testid": "metric" }, sw.metric ? metricLabel(sw.metric) : dash()),
    el(
      "td",
      { class: "num", "data-testid": "best" },
      sw.best
        ? el(
            "a",
            { href: runHref(sw.best.run_id), title: `best run: ${bestRun?.name || sw.best.run_id}`, "data-testid": "best-run" },
            fmtNum(sw.best.value),
          )
        : dash(),
      sw.best ? el("span", { class: "muted" }, ` ${bestRun?.name || sw.best.run_id}`) : null,
    ),
    el("td", { class: "c-time" }, fmtTime(sw.created_us)),
  );
}

export async function renderSweepsPage(page: Page): Promise<void> {
  setCrumbs([["Sweeps"]]);
  let sweeps: Sweep[];
  try {
    sweeps = await api.sweeps(null, page.signal);
  } catch (e) {
    return page.fail(e);
  }
  if (!page.alive) return;

  const select = el("select", { "data-testid": "sweeps-project" });
  const count = el("span", { class: "muted" });
  const tbody = el("tbody");
  const heads = ["ID", "Name", "Project", "Method", "State", "Runs", "Metric", "Best", "Created"];
  page.root.append(
    el(
      "div",
      { class: "sweeps-page", "data-testid": "sweeps-page" },
      el("div", { class: "page-head" }, el("h1", {}, "Sweeps"), count, el("span", { class: "spacer" }), el("label", { class: "field" }, "Project ", select)),
      el(
        "div",
        { class: "table-wrap" },
        el(
          "table",
          { class: "runs", "data-testid": "sweeps-table" },
          el("thead", {}, el("tr", {}, heads.map((t) => el("th", { class: t === "Runs" || t === "Best" ? "num" : null }, t)))),
          tbody,
        ),
      ),
    ),
  );

  const render = () => {
    const projects = [...new Set(sweeps.map((s) => s.project))].sort((a, b) => a.localeCompare(b));
    if (projectFilter && !projects.includes(projectFilter)) projects.push(projectFilter);
    select.replaceChildren(
      el("option", { value: "" }, "all"),
      ...projects.map((p) => el("option", { value: p, selected: p === projectFilter }, p)),
    );
    select.value = projectFilter;
    const shown = sweeps.filter((s) => !projectFilter || s.project === projectFilter);
    count.textContent = `${shown.length} sweep${shown.length === 1 ? "" : "s"}`;
    tbody.replaceChildren(...shown.map(row));
    if (shown.length === 0)
      tbody.append(
        el(
          "tr",
          { class: "empty" },
          el("td", { colspan: heads.length }, "No sweeps yet: create one with tracklab.sweep(config, project=…) or `tracklab sweep config.yaml`."),
        ),
      );
  };
  select.addEventListener("change", () => {
    projectFilter = select.value;
    render();
  });
  render();
  page.ready();

  const refresh = throttle(1500, async () => {
    try {
      const s = await api.sweeps(null, page.signal);
      if (!page.alive) return;
      sweeps = s;
      render();
    } catch (e) {
      if (!isAbort(e)) console.error(e);
    }
  });
  page.onDispose(subscribe(null, {
      run: (r) => {
        if (r.sweep) refresh();
      },
      reconnect: refresh,
    }));
  const timer = setInterval(() => {
    if (sweeps.some((s) => s.runs.some((r) => r.state === "pending" || r.state === "running"))) refresh();
  }, POLL_MS);
  page.onDispose(() => clearInterval(timer));
}
