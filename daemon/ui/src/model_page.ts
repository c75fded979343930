// #/models/<name>: one registered model: its versions (stage, aliases,
// artifact, source run, who registered it and why, a lineage link) and each
// version's stage changes.

import { api, type Model, type ModelVersion } from "./api";
import { esc, fmtTime, lineageHref, modelStageBadge, runHref } from "./format";
import { aliasChips } from "./models_page";
import { h, setCrumbs, type Page } from "./page";

const NONE = '<span class="muted">–</span>';

/**
 * `project/name` + digest → `vN`, from the artifacts' version lists (the
 * model document names its artifact by digest only). Best effort: a failed
 * lookup leaves the digest shown.
 */
async function artifactVersions(m: Model, signal: AbortSignal): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const wanted = new Map<string, { project: string; name: string }>();
  for (const v of m.versions) wanted.set(`${v.artifact.project}/${v.artifact.name}`, v.artifact);
  await Promise.all(
    [...wanted.values()].map(async ({ project, name }) => {
      try {
        for (const a of await api.artifacts(project, { name }, signal))
          out.set(`${project}/${name}@${a.digest}`, a.version);
      } catch (e) {
        console.warn(`versions of ${project}/${name}:`, e);
      }
    }),
  );
  return out;
}

function artifactCell(v: ModelVersion, versions: Map<string, string>): string {
  const a = v.artifact;
  const ver = versions.get(`${a.project}/${a.name}@${a.digest}`);
  const label = ver ? `${a.name}:${ver}` : a.name;
  return `<span class="mono" title="${esc(`${a.project}/${a.name} ${a.digest}`)}">${esc(label)}</span>
    <span class="muted">${esc(a.project)}</span>`;
}

function versionRow(model: string, v: ModelVersion, versions: Map<string, string>): string {
  const run = v.source_run
    ? `<a class="mono" href="${runHref(v.source_run)}" data-testid="source-run">${esc(v.source_run)}</a>`
    : NONE;
  return `<tr data-version="${v.version}">
    <td><b>v${v.version}</b></td>
    <td>${modelStageBadge(v.stage, "model-stage")}</td>
    <td>${v.aliases.map((a) => `<span class="tag">${esc(a)}</span>`).join("") || NONE}</td>
    <td>${artifactCell(v, versions)}</td>
    <td>${run}</td>
    <td class="c-time">${esc(fmtTime(v.created_us))}</td>
    <td>${esc(v.user) || NONE}</td>
    <td class="wrap">${esc(v.reason) || NONE}</td>
    <td><a href="${lineageHref(`models:/${model}/${v.version}`)}" data-testid="lineage-link">lineage</a></td>
  </tr>`;
}

function historyCard(v: ModelVersion): string {
  const rows = v.transitions
    .slice()
    .sort((a, b) => b.timestamp_us - a.timestamp_us)
    .map(
      (t) => `<tr data-testid="transition">
        <td>${modelStageBadge(t.from)} <span class="muted">→</span> ${modelStageBadge(t.to)}</td>
        <td class="c-time">${esc(fmtTime(t.timestamp_us))}</td>
        <td>${esc(t.user) || NONE}</td>
        <td class="wrap" data-testid="transition-reason">${esc(t.reason) || NONE}</td>
      </tr>`,
    )
    .join("");
  return `<section class="card" data-testid="history" data-version="${v.version}">
    <h3>v${v.version} stage history</h3>
    ${
      rows
        ? `<table class="grid-table"><thead><tr><th>change</th><th>when</th><th>who</th><th>why</th></tr></thead><tbody>${rows}</tbody></table>`
        : `<p class="muted">No stage changes.</p>`
    }
  </section>`;
}

export async function renderModelPage(page: Page, name: string): Promise<void> {
  setCrumbs([["Models", "#/models"], [name]]);
  let model: Model;
  try {
    model = await api.model(name, page.signal);
  } catch (e) {
    return page.fail(e);
  }
  const versions = await artifactVersions(model, page.signal);
  if (!page.alive) return;

  // Newest version first.
  const vs = model.versions.slice().sort((a, b) => b.version - a.version);
  const root = h("div", "model-page");
  root.dataset.testid = "model-page";
  root.innerHTML = `
    <div class="run-header">
      <h1>${esc(model.name)}</h1>
      <div class="facts">
        <span>${vs.length} version${vs.length === 1 ? "" : "s"}</span>
        <span title="registered">${esc(fmtTime(model.created_us))}</span>
        <span>aliases ${aliasChips(vs)}</span>
      </div>
    </div>
    <section class="card">
      <h3>Versions</h3>
      <div class="scroll-x"><table class="grid-table" data-testid="versions">
        <thead><tr><th>version</th><th>stage</th><th>aliases</th><th>artifact</th><th>source run</th><th>registered</th><th>user</th><th>reason</th><th></th></tr></thead>
        <tbody>${vs.map((v) => versionRow(model.name, v, versions)).join("") || `<tr><td colspan="9" class="muted">No versions.</td></tr>`}</tbody>
      </table></div>
    </section>
    <div class="history-grid">${vs.map(historyCard).join("")}</div>`;
  page.root.appendChild(root);
  page.ready();
}
