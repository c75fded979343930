// #/models: the model registry, one row per registered model (versions,
// the versions in Production and Staging, aliases).

import { api, type Model, type ModelVersion } from "./api";
import { esc, fmtTime, modelHref } from "./format";
import { h, setCrumbs, type Page } from "./page";

const NONE = '<span class="muted">–</span>';

/** The versions in `stage`, newest first, as `v3, v1` (or a dash). */
function inStage(m: Model, stage: string): string {
  const vs = m.versions
    .filter((v) => v.stage === stage)
    .map((v) => v.version)
    .sort((a, b) => b - a);
  return vs.length ? vs.map((v) => `v${v}`).join(", ") : NONE;
}

/** Every alias of the model as `alias → vN` chips. */
export function aliasChips(versions: ModelVersion[]): string {
  const chips = versions.flatMap((v) =>
    v.aliases.map((a) => `<span class="tag" title="${esc(a)} → v${v.version}">${esc(a)} → v${v.version}</span>`),
  );
  return chips.length ? chips.join("") : NONE;
}

export async function renderModelsPage(page: Page): Promise<void> {
  setCrumbs([["Models"]]);
  let models: Model[];
  try {
    models = await api.models(page.signal);
  } catch (e) {
    return page.fail(e);
  }
  if (!page.alive) return;

  const root = h("div", "models-page");
  root.dataset.testid = "models-page";
  const rows = models
    .slice()
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((m) => {
      const latest = m.versions.reduce((n, v) => Math.max(n, v.version), 0);
      return `<tr data-model="${esc(m.name)}">
        <td class="c-name"><a href="${modelHref(m.name)}">${esc(m.name)}</a></td>
        <td class="num" data-testid="versions">${m.versions.length}</td>
        <td>${latest ? `v${latest}` : NONE}</td>
        <td data-testid="production">${inStage(m, "Production")}</td>
        <td data-testid="staging">${inStage(m, "Staging")}</td>
        <td data-testid="aliases">${aliasChips(m.versions)}</td>
        <td class="c-time">${esc(fmtTime(m.created_us))}</td>
      </tr>`;
    })
    .join("");
  root.innerHTML = `
    <div class="page-head"><h1>Models</h1><span class="muted">${models.length} registered</span></div>
    <div class="table-wrap"><table class="runs" data-testid="models-table">
      <thead><tr><th>Name</th><th class="num">Versions</th><th>Latest</th><th>Production</th><th>Staging</th><th>Aliases</th><th>Registered</th></tr></thead>
      <tbody>${
        rows ||
        `<tr class="empty"><td colspan="7">No registered models yet: register one with <code>tracklab.register_model(artifact, "name")</code>.</td></tr>`
      }</tbody>
    </table></div>`;
  page.root.appendChild(root);
  page.ready();
}
