// A sweep's metric over its runs in the order they were handed out: each
// run's value as a dot, the best so far as a step line (SVG).

import type { Sweep, SweepRun } from "./api";
import { fmtNum, runHref } from "./format";
import { px, svg, svgTitle } from "./dom";
import { ticks } from "./hparams";
import { runValue } from "./sweep_data";

const W = 640;
const H = 240;
const PAD = { l: 56, r: 14, t: 12, b: 32 };

export function bestSoFar(sw: Sweep): SVGSVGElement {
  const root = svg("svg", {
    viewBox: `0 0 ${W} ${H}`,
    width: W,
    height: H,
    class: "bsf",
    role: "img",
    "aria-label": "best so far",
    "data-testid": "best-so-far",
  });
  const pts = sw.runs
    .map((r, i) => ({ r, i: i + 1, v: runValue(r) }))
    .filter((p): p is { r: SweepRun; i: number; v: number } => p.v !== null);
  if (!sw.metric || pts.length === 0) {
    root.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, sw.metric ? "No values yet." : "No metric."));
    return root;
  }
  const max = sw.metric.goal === "maximize";
  const n = sw.runs.length;
  const vs = pts.map((p) => p.v);
  let lo = Math.min(...vs);
  let hi = Math.max(...vs);
  if (lo === hi) {
    const d = Math.abs(lo) * 0.1 || 1;
    lo -= d;
    hi += d;
  }
  const m = (hi - lo) * 0.06;
  lo -= m;
  hi += m;
  const x = (i: number) => PAD.l + (n <= 1 ? 0.5 : (i - 1) / (n - 1)) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - ((v - lo) / (hi - lo)) * (H - PAD.t - PAD.b);

  for (const t of ticks(lo, hi, 4))
    root.append(
      svg("line", { x1: PAD.l, x2: W - PAD.r, y1: px(y(t)), y2: px(y(t)), class: "grid" }),
      svg("text", { x: PAD.l - 6, y: px(y(t) + 4), "text-anchor": "end" }, fmtNum(t)),
    );
  for (const t of ticks(1, Math.max(1, n), Math.min(8, n)).filter((t) => Number.isInteger(t)))
    root.append(svg("text", { x: px(x(t)), y: H - PAD.b + 15, "text-anchor": "middle" }, String(t)));
  root.append(
    svg("line", { x1: PAD.l, x2: W - PAD.r, y1: H - PAD.b, y2: H - PAD.b, class: "axis" }),
    svg("line", { x1: PAD.l, x2: PAD.l, y1: PAD.t, y2: H - PAD.b, class: "axis" }),
    svg("text", { x: (PAD.l + W - PAD.r) / 2, y: H - 4, "text-anchor": "middle", class: "label" }, "run (in the order handed out)"),
  );

  // The best so far, as steps from each run to the next.
  let best: number | null = null;
  const steps: string[] = [];
  for (const p of pts) {
    // Along at the previous best, then down (or up) to this run's value if better.
    if (best !== null) steps.push(`${px(x(p.i))},${px(y(best))}`);
    if (best === null || (max ? p.v > best : p.v < best)) best = p.v;
    steps.push(`${px(x(p.i))},${px(y(best))}`);
  }
  const last = pts.at(-1);
  if (best !== null && last && last.i < n) steps.push(`${px(x(n))},${px(y(best))}`);
  root.append(svg("polyline", { points: steps.join(" "), class: "bsf-line" }));
  for (const p of pts)
    root.append(
      svg(
        "a",
        { href: runHref(p.r.id) },
        svg(
          "circle",
          { cx: px(x(p.i)), cy: px(y(p.v)), r: 4, class: "bsf-dot", "data-run-id": p.r.id },
          svgTitle(`#${p.i} ${p.r.name || p.r.id}\n${sw.metric.name} = ${fmtNum(p.v)}`),
        ),
      ),
    );
  return root;
}
