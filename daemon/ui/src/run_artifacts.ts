// The run page's "Artifacts" card: what the run logged (outputs) and used
// (inputs, with their role), from `GET /api/v1/runs/{id}/artifacts`, and a
// link to the run's lineage. Hidden while both lists are empty.

import type { Artifact, RunArtifacts } from "./api";
import { artifactLabel, esc, fmtBytes, fmtTime, lineageHref, runHref } from "./format";

const NONE = '<span class="muted">–</span>';

/** The artifact as `name:vN`, with its project when it is not the run's. */
function nameCell(a: Artifact, project: string): string {
  const title = `${a.project}/${artifactLabel(a)}\n${a.digest}${a.description ? `\n${a.description}` : ""}`;
  return `<span class="mono" title="${esc(title)}">${a.project !== project ? `${esc(a.project)}/` : ""}${esc(
    artifactLabel(a),
  )}</span>${a.aliases.map((x) => ` <span class="tag">${esc(x)}</span>`).join("")}`;
}

const role = (r: string) => (r ? `<span class="role">${esc(r)}</span>` : NONE);

function outputRow(a: Artifact, project: string): string {
  return `<tr data-testid="artifact-out" data-artifact="${esc(artifactLabel(a))}" data-role="${esc(a.role)}">
    <td>${nameCell(a, project)}</td><td>${esc(a.type)}</td><td>${role(a.role)}</td>
    <td class="num">${esc(fmtBytes(a.size))}</td><td class="num">${a.files.length}</td>
    <td class="c-time">${esc(fmtTime(a.created_us))}</td>
    <td><a href="${lineageHref(`${a.project}/${artifactLabel(a)}`)}" title="the chain behind this artifact">lineage</a></td>
  </tr>`;
}

function inputRow(a: Artifact, r: string, project: string, runId: string): string {
  const by =
    a.created_by && a.created_by !== runId
      ? `<a class="mono" href="${runHref(a.created_by)}" title="the run that logged it">${esc(a.created_by)}</a>`
      : NONE;
  return `<tr data-testid="artifact-in" data-artifact="${esc(artifactLabel(a))}" data-role="${esc(r)}">
    <td>${nameCell(a, project)}</td><td>${esc(a.type)}</td><td>${role(r)}</td>
    <td class="num">${esc(fmtBytes(a.size))}</td><td class="num">${a.files.length}</td>
    <td>${by}</td>
  </tr>`;
}

/** Fills `card` (`section[data-testid="artifacts"]`) and shows it, or hides it when the run has none. */
export function renderRunArtifacts(card: HTMLElement, arts: RunArtifacts, runId: string, project: string): void {
  const { logged, used } = arts;
  card.hidden = logged.length === 0 && used.length === 0;
  if (card.hidden) {
    card.innerHTML = "";
    return;
  }
  const table = (head: string, rows: string, testid: string) =>
    `<table class="grid-table" data-testid="${testid}"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
  const outputs = logged.length
    ? table(
        "<th>output</th><th>type</th><th>role</th><th>size</th><th>files</th><th>logged</th><th></th>",
        logged.map((a) => outputRow(a, project)).join(""),
        "artifacts-logged",
      )
    : `<p class="muted">Logged nothing.</p>`;
  const inputs = used.length
    ? table(
        "<th>input</th><th>type</th><th>role</th><th>size</th><th>files</th><th>logged by</th>",
        used.map((u) => inputRow(u.artifact, u.role, project, runId)).join(""),
        "artifacts-used",
      )
    : `<p class="muted">Used nothing.</p>`;
  card.innerHTML = `<h3>Artifacts <a class="lineage-link" href="${lineageHref(runId)}" data-testid="lineage-link">lineage</a></h3>
    <div class="artifacts-grid">
      <div><div class="sub">Outputs <span class="muted">(${logged.length})</span></div><div class="scroll">${outputs}</div></div>
      <div><div class="sub">Inputs <span class="muted">(${used.length})</span></div><div class="scroll">${inputs}</div></div>
    </div>`;
}
