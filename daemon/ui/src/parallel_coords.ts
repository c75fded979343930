// A sweep's parallel-coordinates view (SVG): one vertical axis per
// parameter and one for the metric, each run a polyline through its values,
// coloured by the metric (dark = best). Numeric axes go min (bottom) to max
// (top); categorical ones space their values evenly. Runs without a metric
// value yet are grey and dashed, and stop at the last parameter axis.

import type { Json, Sweep, SweepRun } from "./api";
import { fmtNum, fmtValue, runHref } from "./format";
import { clip, px, svg, svgTitle } from "./dom";
import { badness, metricLabel, paramOf, ramp, runValue, scaleOf, type Scale } from "./sweep_data";

const H = 320;
const PAD = { l: 70, r: 70, t: 40, b: 16 };

interface Axis {
  name: string;
  label: string;
  metric: boolean;
  scale: Scale;
  value: (r: SweepRun) => Json | undefined;
}

function axes(sw: Sweep, runs: SweepRun[]): Axis[] {
  const out: Axis[] = sw.parameters.map((name) => {
    const value = (r: SweepRun) => paramOf(r, name);
    return { name, label: name, metric: false, scale: scaleOf(runs.map(value)), value };
  });
  if (sw.metric) {
    const value = (r: SweepRun) => runValue(r) ?? undefined;
    out.push({ name: sw.metric.name, label: metricLabel(sw.metric), metric: true, scale: scaleOf(runs.map(value)), value });
  }
  return out;
}

/** The view, `width` pixels wide (wider when there are many axes: the card scrolls). */
export function parallelCoords(sw: Sweep, width: number): SVGSVGElement {
  const runs = sw.runs;
  const ax = axes(sw, runs);
  const W = Math.round(Math.max(560, width, 110 * (ax.length - 1) + PAD.l + PAD.r));
  const root = svg("svg", {
    viewBox: `0 0 ${W} ${H}`,
    width: W,
    height: H,
    class: "pc",
    role: "img",
    "aria-label": "parallel coordinates",
    "data-testid": "parallel-coords",
  });
  if (ax.length === 0 || runs.length === 0) {
    root.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "muted-text" }, "No runs yet."));
    return root;
  }
  const plotH = H - PAD.t - PAD.b;
  const xAt = (i: number) => (ax.length === 1 ? W / 2 : PAD.l + (i * (W - PAD.l - PAD.r)) / (ax.length - 1));
  const yAt = (p: number) => PAD.t + (1 - p) * plotH;

  // The metric axis carries the colour ramp, so lines read against it.
  const values = runs.map(runValue).filter((v): v is number => v !== null);
  const bad = values.length ? badness(sw, values) : () => 0.5;
  const metricAxis = ax.findIndex((a) => a.metric);
  if (metricAxis >= 0 && values.length > 1) {
    const defs = svg("defs");
    const grad = svg("linearGradient", { id: `pc-ramp-${sw.id}`, x1: 0, y1: 1, x2: 0, y2: 0 });
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    for (let k = 0; k <= 8; k++) {
      const v = lo + ((hi - lo) * k) / 8;
      grad.append(svg("stop", { offset: `${k * 12.5}%`, "stop-color": ramp(bad(v)) }));
    }
    defs.append(grad);
    root.append(defs);
    const x = xAt(metricAxis);
    root.append(svg("rect", { x: px(x - 3), y: PAD.t, width: 6, height: plotH, fill: `url(#pc-ramp-${sw.id})`, rx: 2 }));
  }

  // Lines: runs without a value first, then worst to best (best on top).
  const order = runs
    .map((r) => ({ r, v: runValue(r) }))
    .sort((a, b) => (a.v === null ? -1 : b.v === null ? 1 : bad(b.v) - bad(a.v)));
  const lines = svg("g", { class: "pc-lines" });
  for (const { r, v } of order) {
    const pts: string[] = [];
    ax.forEach((a, i) => {
      const p = a.scale.pos(a.value(r));
      if (p !== null) pts.push(`${px(xAt(i))},${px(yAt(p))}`);
    });
    if (pts.length === 0) continue;
    if (pts.length === 1) pts.push(pts[0] as string);
    const tip = [
      r.name || r.id,
      ...ax.filter((a) => !a.metric).map((a) => `${a.name} = ${fmtValue(a.value(r) ?? null)}`),
      sw.metric ? `${sw.metric.name} = ${v === null ? "–" : fmtNum(v)}` : "",
      r.stopped ? `stopped early${r.stop_reason ? `: ${r.stop_reason}` : ""}` : "",
    ].filter((s) => s !== "");
    const line = svg(
      "polyline",
      {
        points: pts.join(" "),
        class: v === null ? "pc-line pc-novalue" : "pc-line",
        stroke: v === null ? "#b0b6bd" : sw.metric ? ramp(bad(v)) : "#2563eb",
        "data-testid": "pc-line",
        "data-run-id": r.id,
      },
      svgTitle(tip.join("\n")),
    );
    lines.append(r.state === "pending" ? line : svg("a", { href: runHref(r.id) }, line));
  }

  // Axes over the lines, with their labels and ticks.
  const axesG = svg("g", { class: "pc-axes" });
  ax.forEach((a, i) => {
    const x = px(xAt(i));
    const right = i === ax.length - 1 && ax.length > 1; // the last axis labels its ticks on its right
    const g = svg(
      "g",
      {
        class: a.metric ? "pc-axis metric" : "pc-axis",
        "data-testid": "pc-axis",
        "data-axis": a.name,
        "data-kind": a.scale.kind,
      },
      svg("line", { x1: x, x2: x, y1: PAD.t, y2: PAD.t + plotH, class: "axis" }),
      svg("text", { x, y: PAD.t - 22, "text-anchor": "middle", class: "label" }, clip(a.label, 22), svgTitle(a.label)),
    );
    for (const t of a.scale.ticks) {
      const y = px(yAt(t.at));
      g.append(
        svg("line", { x1: x - 3, x2: x + 3, y1: y, y2: y, class: "axis" }),
        svg(
          "text",
          { x: right ? x + 7 : x - 7, y: y + 4, "text-anchor": right ? "start" : "end", class: "tick" },
          clip(t.label, 12),
          svgTitle(t.label),
        ),
      );
    }
    axesG.append(g);
  });
  root.append(lines, axesG);
  return root;
}
