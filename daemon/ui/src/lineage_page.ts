// #/lineage/<target>: the training chain behind a run id, a registered
// model (`models:/NAME/VERSION|STAGE`, `models:/NAME@ALIAS`) or an artifact
// (`PROJECT/NAME[:VERSION]`), drawn as a graph.

import { api, type Lineage } from "./api";
import { esc, lineageHref } from "./format";
import { lineageGraphHtml } from "./lineage_graph";
import { h, setCrumbs, type Page } from "./page";

/** Where the crumbs point back to: the model, or the run. */
function crumbsFor(target: string): [string, string?][] {
  const m = /^models:\/([^/@]+)/.exec(target);
  if (m) return [["Models", "#/models"], [m[1] as string, `#/models/${encodeURIComponent(m[1] as string)}`], ["lineage"]];
  return [["Runs", "#/"], ["lineage"], [target]];
}

export async function renderLineagePage(page: Page, target: string): Promise<void> {
  setCrumbs(crumbsFor(target));
  const root = h("div", "lineage-page");
  root.dataset.testid = "lineage-page";
  root.innerHTML = `
    <div class="page-head">
      <h1>Lineage</h1>
      <span class="muted target"></span>
      <span class="spacer"></span>
      <form class="row lineage-form">
        <input type="text" class="search" data-testid="lineage-target" value="${esc(target)}"
          placeholder="run id, models:/NAME/VERSION, PROJECT/NAME:vN">
        <button class="btn" type="submit">Show</button>
      </form>
    </div>
    <div class="lineage-body"></div>`;
  page.root.appendChild(root);
  const input = root.querySelector("input") as HTMLInputElement;
  (root.querySelector("form") as HTMLFormElement).addEventListener("submit", (e) => {
    e.preventDefault();
    const t = input.value.trim();
    if (t) location.hash = lineageHref(t);
  });
  if (!target) {
    (root.querySelector(".lineage-body") as HTMLElement).innerHTML =
      `<p class="muted">Enter a run id, a model (<code>models:/chat/1</code>) or an artifact (<code>llm/sft-ckpt:v0</code>).</p>`;
    page.ready();
    return;
  }

  let lineage: Lineage;
  try {
    lineage = await api.lineage(target, page.signal);
  } catch (e) {
    return page.fail(e);
  }
  if (!page.alive) return;
  (root.querySelector(".target") as HTMLElement).textContent =
    `${lineage.target || target} · ${lineage.stages.length} stage${lineage.stages.length === 1 ? "" : "s"}`;
  (root.querySelector(".lineage-body") as HTMLElement).innerHTML = lineage.stages.length
    ? `<div class="lineage-scroll">${lineageGraphHtml(lineage)}</div>`
    : `<p class="muted" data-testid="lineage-graph" data-stages="0">No training stages found for ${esc(target)}.</p>`;
  page.ready();
}
