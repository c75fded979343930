// Entry point and hash router:
//   #/ or #/p/<project>       runs table
//   #/run/<id>                one run
//   #/compare/<id>,<id>,...   runs side by side

import "uplot/dist/uPlot.min.css";
import "./style.css";

import { renderComparePage } from "./compare_page";
import { Page } from "./page";
import { renderRunPage } from "./run_page";
import { renderRunsPage } from "./runs_table";

let current: Page | null = null;

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
  try {
    if (parts[0] === "run" && parts.length > 1) {
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
