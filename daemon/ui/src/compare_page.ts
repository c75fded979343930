// #/compare/<id>,<id>,...: runs overlaid on shared charts, config
// differences, best run per metric, and a hyperparameter scatter.

import { api, AuthError, num, subscribe, type CompareJson, type Json, type RunDoc, type RunRow } from "./api";
import { bestRunsHtml, configDiffHtml } from "./compare_tables";
import { color, esc, flatten, stateBadge } from "./format";
import { scatterSvg, type HPoint } from "./hparams";
import { charted, chartedSystem, stepMetrics } from "./metrics";
import { h, isAbort, notice, setCrumbs, throttle, type Page } from "./page";
import { PanelSet, sectionOf, type PanelRun } from "./panels";

export async function renderComparePage(page: Page, ids: string[]): Promise<void> {
  setCrumbs([["Runs", "#/"], [`Compare ${ids.length} runs`]]);
  const results = await Promise.allSettled(ids.map((id) => api.run(id, page.signal)));
  if (!page.alive) return;
  const docs: RunDoc[] = [];
  const failed: string[] = [];
  results.forEach((r, i) => {
    if (r.status === "fulfilled") docs.push(r.value);
    else if (!isAbort(r.reason)) failed.push(`${ids[i]}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
  });
  const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason as unknown);
  const auth = rejected.find((e) => e instanceof AuthError);
  if (auth || docs.length === 0) return page.fail(auth ?? rejected[0] ?? new Error("No runs to compare."));
  const projects = [...new Set(docs.map((d) => d.project))];
  setCrumbs([
    ["Runs", "#/"],
    ...(projects.length === 1 ? [[projects[0] as string, `#/p/${encodeURIComponent(projects[0] as string)}`] as [string, string]] : []),
    [`Compare ${docs.length} runs`],
  ]);

  const colorOf = (id: string) => color(Math.max(0, docs.findIndex((d) => d.id === id)));
  const runs: PanelRun[] = docs.map((d, i) => ({ id: d.id, label: d.name || d.id, color: color(i) }));
  const xOptions: [string, string][] = [
    ["", "step"],
    ["_timestamp", "wall time"],
    ["_runtime", "relative time"],
    ...[...new Set(docs.flatMap(stepMetrics))].sort().map((k) => [k, k] as [string, string]),
  ];

  const root = h("div", "compare-page");
  root.dataset.testid = "compare-page";
  root.innerHTML = `
    <div class="compare-head">
      <h1>Compare ${docs.length} runs</h1>
      <div class="legend"></div>
    </div>
    <div class="toolbar controls">
      <label class="field">x axis <select data-testid="x-axis">${xOptions
        .map(([v, l]) => `<option value="${esc(v)}">${esc(l)}</option>`)
        .join("")}</select></label>
      <label class="field">smoothing <input type="range" data-testid="smoothing" min="0" max="0.99" step="0.01" value="0"><span class="smooth-val mono">0.00</span></label>
      <label class="field"><input type="checkbox" data-testid="log-scale"> log y</label>
      <span class="muted hint">drag to zoom · double-click to reset</span>
    </div>
    <div class="charts"></div>
    <div class="compare-tables">
      <section class="card"><h3>Config differences</h3><div class="scroll"><table class="grid-table" data-testid="config-diff"></table></div></section>
      <section class="card"><h3>Best run per metric</h3><div class="scroll"><table class="grid-table" data-testid="best-runs"></table></div></section>
    </div>
    <section class="card hparams-card"><h3>Hyperparameters</h3>
      <div class="row"><label class="field">x (config) <select class="hp-x"></select></label>
      <label class="field">y (summary) <select class="hp-y"></select></label></div>
      <div class="hparams" data-testid="hparams"></div>
    </section>`;
  page.root.appendChild(root);
  const q = <T extends HTMLElement>(sel: string) => root.querySelector(sel) as T;
  if (failed.length) notice(root, new Error(`Some runs could not be loaded: ${failed.join("; ")}`));

  // Legend.
  const states = new Map(docs.map((d) => [d.id, d.state]));
  const renderLegend = () => {
    q(".legend").innerHTML = runs
      .map(
        (r) =>
          `<span class="legend-item" data-run-id="${esc(r.id)}"><i class="swatch" style="background:${r.color}"></i><a href="#/run/${encodeURIComponent(
            r.id,
          )}">${esc(r.label)}</a>${stateBadge(states.get(r.id) ?? "")}</span>`,
      )
      .join("");
  };
  renderLegend();

  // Charts: one per key any run has, drawn for the runs that have it.
  const panels = new PanelSet(page, q(".charts"), {
    xKey: "",
    logY: false,
    smoothing: 0,
    runStart: (id) => (docs.find((d) => d.id === id)?.created_us ?? 0) / 1e6,
  });
  const addCharts = (): string[] => {
    const added: string[] = [];
    const keyRuns = new Map<string, { system: boolean; runs: PanelRun[] }>();
    docs.forEach((d, i) => {
      const system = new Set(d.system_keys ?? []);
      for (const key of [...(d.history_keys ?? []), ...(d.system_keys ?? [])]) {
        if (system.has(key) ? !chartedSystem(key) : !charted(d, key)) continue;
        const e = keyRuns.get(key) ?? { system: system.has(key), runs: [] };
        if (!e.runs.includes(runs[i] as PanelRun)) e.runs.push(runs[i] as PanelRun);
        keyRuns.set(key, e);
      }
    });
    for (const [key, e] of [...keyRuns].sort((a, b) => a[0].localeCompare(b[0]))) {
      if (panels.has(key)) continue;
      panels.add(key, sectionOf(key, e.system), e.runs);
      added.push(key);
    }
    return added;
  };
  addCharts();
  if (panels.size === 0) q(".charts").innerHTML = `<p class="muted empty-charts">None of these runs logged metrics yet.</p>`;

  const xSel = q<HTMLSelectElement>('[data-testid="x-axis"]');
  xSel.addEventListener("change", () => void panels.setXKey(xSel.value).catch((e) => notice(root, e)));
  const smooth = q<HTMLInputElement>('[data-testid="smoothing"]');
  const onSmooth = () => {
    const a = Math.min(0.99, Math.max(0, Number(smooth.value) || 0));
    q(".smooth-val").textContent = a.toFixed(2);
    panels.setSmoothing(a);
  };
  smooth.addEventListener("input", onSmooth);
  smooth.addEventListener("change", onSmooth);
  const logBox = q<HTMLInputElement>('[data-testid="log-scale"]');
  logBox.addEventListener("change", () => panels.setLogY(logBox.checked));

  // Hyperparameters.
  const points: HPoint[] = docs.map((d, i) => ({
    id: d.id,
    name: d.name || d.id,
    color: color(i),
    config: new Map(flatten(d.config)),
    summary: new Map(flatten(d.summary)),
  }));
  const hpX = q<HTMLSelectElement>(".hp-x");
  const hpY = q<HTMLSelectElement>(".hp-y");
  let cmp: CompareJson | null = null;
  const fillHpSelects = () => {
    const cfg = [...new Set(points.flatMap((p) => [...p.config.keys()]))].sort();
    const sum = [
      ...new Set(points.flatMap((p) => [...p.summary].filter(([k, v]) => !k.startsWith("_") && num(v as Json) !== null).map(([k]) => k))),
    ].sort();
    const keepX = hpX.value;
    const keepY = hpY.value;
    const diff = cmp?.config?.map((c) => c.key) ?? [];
    const defX = keepX || diff.find((k) => cfg.includes(k)) || cfg[0] || "";
    const goalMetric = cmp?.metrics?.find((m) => m.goal !== null)?.key;
    const defY = keepY || (goalMetric && sum.includes(goalMetric) ? goalMetric : sum[0]) || "";
    hpX.innerHTML = cfg.map((k) => `<option${k === defX ? " selected" : ""}>${esc(k)}</option>`).join("");
    hpY.innerHTML = sum.map((k) => `<option${k === defY ? " selected" : ""}>${esc(k)}</option>`).join("");
  };
  const renderHp = () => {
    q(".hparams").innerHTML =
      hpX.value && hpY.value
        ? scatterSvg(points, hpX.value, hpY.value)
        : `<p class="muted">Needs config values and numeric summary metrics.</p>`;
  };
  hpX.addEventListener("change", renderHp);
  hpY.addEventListener("change", renderHp);

  const loadTables = async () => {
    cmp = await api.compare(
      docs.map((d) => d.id),
      page.signal,
    );
    if (!page.alive) return;
    q('[data-testid="config-diff"]').innerHTML = configDiffHtml(cmp, colorOf);
    q('[data-testid="best-runs"]').innerHTML = bestRunsHtml(cmp, colorOf);
  };

  const tablesDone = loadTables().catch((e) => notice(q(".compare-tables"), e));
  try {
    await Promise.all([panels.loadAll(), tablesDone]);
  } catch (e) {
    if (isAbort(e)) return;
    notice(root, e);
  }
  if (!page.alive) return;
  fillHpSelects();
  renderHp();
  page.ready();

  // Live: new points only; tables, scatter and new chart keys now and then.
  const changed = new Set<string>();
  const refresh = throttle(3000, async () => {
    try {
      const ids = [...changed];
      changed.clear();
      const fresh = await Promise.all(ids.map((id) => api.run(id, page.signal)));
      if (!page.alive) return;
      for (const d of fresh) {
        const i = docs.findIndex((x) => x.id === d.id);
        if (i >= 0) docs[i] = d;
      }
      const added = addCharts();
      if (added.length) {
        q(".empty-charts")?.remove();
        await Promise.all(runs.map((r) => panels.loadRun(r.id, added)));
      }
      await loadTables();
      fillHpSelects();
      renderHp();
    } catch (e) {
      if (!isAbort(e)) console.error(e);
    }
  });
  const onRun = (row: RunRow) => {
    const p = points.find((x) => x.id === row.id);
    if (!p) return;
    states.set(row.id, row.state);
    const r = runs.find((x) => x.id === row.id);
    if (r) r.label = row.name || row.id;
    p.name = row.name || row.id;
    for (const [k, v] of Object.entries(row.config ?? {})) p.config.set(k, v);
    for (const [k, v] of Object.entries(row.summary ?? {})) p.summary.set(k, v);
    renderLegend();
    renderHp();
    void panels.append(row.id);
    changed.add(row.id);
    refresh();
  };
  page.onDispose(
    subscribe(projects.length === 1 ? (projects[0] as string) : null, {
      run: onRun,
      reconnect: () => {
        for (const r of runs) {
          void panels.append(r.id);
          changed.add(r.id);
        }
        refresh();
      },
    }),
  );
  // Steps logged between the first load and the stream opening.
  for (const d of docs) if (d.state === "running") void panels.append(d.id);
}
