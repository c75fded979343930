// Entry point and hash router:
//   #/ or #/p/<project>       runs table
//   #/run/<id>                one run
//   #/compare/<id>,<id>,...   runs side by side
//   #/sweeps                  hyperparameter sweeps
//   #/sweeps/<id>             one sweep
//   #/models                  the model registry
//   #/models/<name>           one registered model
//   #/lineage/<target>        the training chain behind a run id,
//                             models:/NAME/VERSION or PROJECT/NAME:vN
//                             (URL-encoded; an unencoded target works too)

import "uplot/dist/uPlot.min.css";
import "./style.css";

import { renderComparePage } from "./compare_page";
import { renderLineagePage } from "./lineage_page";
import { renderModelPage } from "./model_page";
import { renderModelsPage } from "./models_page";
import { Page } from "./page";
import { renderRunPage } from "./run_page";
import { renderRunsPage } from "./runs_table";
import { renderSweepPage } from "./sweep_page";
import { renderSweepsPage } from "./sweeps_page";

let current: Page | null = null;

/** The top bar's page links (Runs, Sweeps, Models), after the brand. */
function navBar(): HTMLElement | null {
  let nav = document.getElementById("nav");
  if (nav) return nav;
  const brand = document.querySelector(".topbar .brand");
  if (!brand) return null;
  nav = document.createElement("nav");
  nav.id = "nav";
  nav.className = "mainnav";
  nav.innerHTML = `<a href="#/" data-nav="runs" data-testid="nav-runs">Runs</a><a href="#/sweeps" data-nav="sweeps" data-testid="nav-sweeps">Sweeps</a><a href="#/models" data-nav="models" data-testid="nav-models">Models</a>`;
  brand.after(nav);
  return nav;
}

function markNav(section: string): void {
  for (const a of navBar()?.querySelectorAll<HTMLElement>("a[data-nav]") ?? [])
    a.classList.toggle("active", a.dataset.nav === section);
}

function route(): void {
  current?.dispose();
  delete document.body.dataset.ready;
  const root = document.getElementById("app") as HTMLElement;
  root.innerHTML = "";
  root.className = "";
  const page = new Page(root);
  current = page;
  window.scrollTo(0, 0);

  const hash = location.hash.replace(/^#/, "") || "/";
  const parts = hash.split("/").filter((p) => p !== "");
  const arg = (i: number) => decodeURIComponent(parts.slice(i).join("/"));
  const section = parts[0] === "models" || parts[0] === "sweeps" ? parts[0] : parts[0] === "lineage" ? "" : "runs";
  markNav(section);
  try {
    if (parts[0] === "sweeps") {
      if (parts.length > 1) void renderSweepPage(page, arg(1));
      else void renderSweepsPage(page);
    } else if (parts[0] === "models") {
      if (parts.length > 1) void renderModelPage(page, arg(1));
      else void renderModelsPage(page);
    } else if (parts[0] === "lineage") {
      void renderLineagePage(page, arg(1));
    } else if (parts[0] === "run" && parts.length > 1) {
      void renderRunPage(page, arg(1));
    } else if (parts[0] === "compare" && parts.length > 1) {
      const ids = arg(1)
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      void renderComparePage(page, ids);
    } else if (parts[0] === "p" && parts.length > 1) {
      void renderRunsPage(page, arg(1));
    } else {
      void renderRunsPage(page, null);
    }
  } catch (e) {
    page.fail(e);
  }
}

window.addEventListener("hashchange", route);
route();
