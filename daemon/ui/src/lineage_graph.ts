// The lineage chain drawn left to right in HTML/CSS: one box per stage (a
// run), joined by arrows labelled with the checkpoint that links them
// (stage i's final checkpoint, stage i+1's base model).

import type { ArtifactRef, Json, Lineage, LineageStage } from "./api";
import { artifactLabel, esc, fmtValue, runHref, stateBadge } from "./format";

/** Metrics and hyperparameters shown per box (the box's title lists them all). */
const SHOWN = 4;

/** Keys that usually matter most come first, then the rest by name. */
const KEY_METRICS = [/loss/, /acc/, /reward/, /perplex|ppl/, /score|f1|bleu|rouge/, /eval|val/];
const KEY_HPARAMS = [/^(lr|learning_rate)$|lr$/, /batch/, /epoch|steps|iters/, /warmup/, /kl|beta/, /seed/];

function rank(key: string, patterns: RegExp[]): number {
  const k = key.toLowerCase();
  const i = patterns.findIndex((p) => p.test(k));
  return i < 0 ? patterns.length : i;
}

/** The `SHOWN` most telling entries and how many more there are. */
function pick(obj: Record<string, Json>, patterns: RegExp[]): { shown: [string, Json][]; all: [string, Json][] } {
  const all = Object.entries(obj).sort(
    (a, b) => rank(a[0], patterns) - rank(b[0], patterns) || a[0].localeCompare(b[0]),
  );
  return { shown: all.slice(0, SHOWN), all };
}

function kvBlock(label: string, obj: Record<string, Json>, patterns: RegExp[], testid: string): string {
  const { shown, all } = pick(obj, patterns);
  if (all.length === 0) return "";
  const more = all.length - shown.length;
  const title = all.map(([k, v]) => `${k}=${fmtValue(v)}`).join("\n");
  return `<div class="stage-kv" data-testid="${testid}" title="${esc(title)}">
    <div class="stage-kv-label">${esc(label)}</div>
    <table class="kv">${shown
      .map(([k, v]) => `<tr><th title="${esc(k)}">${esc(k)}</th><td>${esc(fmtValue(v))}</td></tr>`)
      .join("")}</table>${more > 0 ? `<div class="muted">+${more} more</div>` : ""}
  </div>`;
}

function refTitle(a: ArtifactRef): string {
  return `${a.project}/${artifactLabel(a)} (${a.type})${a.aliases.length ? ` [${a.aliases.join(", ")}]` : ""}\n${a.digest}`;
}

function refChip(a: ArtifactRef, testid: string): string {
  return `<span class="mono artifact-ref" data-testid="${testid}" title="${esc(refTitle(a))}">${esc(artifactLabel(a))}</span>`;
}

function stageBox(s: LineageStage, i: number): string {
  const base =
    i === 0 && s.base_model
      ? `<div class="stage-line"><span class="muted">base model</span> ${refChip(s.base_model, "base-model")}</div>`
      : "";
  const dataset = s.dataset
    ? `<div class="stage-line"><span class="muted">dataset</span> ${refChip(s.dataset, "dataset")}</div>`
    : `<div class="stage-line muted">no dataset</div>`;
  return `<div class="stage-box" data-testid="stage" data-run-id="${esc(s.run_id)}" data-stage="${esc(s.stage)}">
    <div class="stage-head">
      <span class="stage-index">${i + 1}</span>
      <span class="stage-name" data-testid="stage-name">${esc(s.stage)}</span>
      ${stateBadge(s.state)}
    </div>
    <div class="stage-line"><a href="${runHref(s.run_id)}" data-testid="stage-run" title="${esc(s.run_id)}">${esc(
      s.run_name || s.run_id,
    )}</a> <span class="muted">${esc(s.project)}</span></div>
    <div class="stage-line"><span class="muted">steps</span> ${esc(s.steps)}</div>
    ${base}${dataset}
    ${kvBlock("metrics", s.metrics, KEY_METRICS, "stage-metrics")}
    ${kvBlock("hyperparameters", s.hyperparameters, KEY_HPARAMS, "stage-hparams")}
  </div>`;
}

/** The arrow from stage `a` to stage `b`, labelled with the checkpoint between them. */
function edge(a: LineageStage, b: LineageStage): string {
  const ref = b.base_model ?? a.final_checkpoint;
  const label = ref ? artifactLabel(ref) : "";
  // Stage a's output should be stage b's input; say so when it is not.
  const out = a.final_checkpoint;
  const mismatch = !!(out && b.base_model && out.digest !== b.base_model.digest);
  const title = ref
    ? refTitle(ref) + (mismatch && out ? `\n(${a.stage}'s final checkpoint is ${artifactLabel(out)})` : "")
    : "";
  return `<div class="lineage-edge${mismatch ? " mismatch" : ""}" data-testid="edge" data-artifact="${esc(label)}" title="${esc(title)}">
    <span class="edge-label mono">${esc(label) || "&nbsp;"}</span>
    <span class="edge-line"></span>
  </div>`;
}

/** The last stage's output, after the chain. */
function output(s: LineageStage): string {
  const ckpt = s.final_checkpoint;
  if (!ckpt) return "";
  return `<div class="lineage-edge" title="${esc(refTitle(ckpt))}"><span class="edge-label">&nbsp;</span><span class="edge-line"></span></div>
    <div class="lineage-output" data-testid="output" data-artifact="${esc(artifactLabel(ckpt))}">
      <div class="muted">final checkpoint</div>${refChip(ckpt, "final-checkpoint")}
    </div>`;
}

/** `<div data-testid="lineage-graph">` with the chain, first stage on the left. */
export function lineageGraphHtml(l: Lineage): string {
  const stages = l.stages.slice().sort((a, b) => a.index - b.index);
  const parts: string[] = [];
  stages.forEach((s, i) => {
    if (i > 0) parts.push(edge(stages[i - 1] as LineageStage, s));
    parts.push(stageBox(s, i));
  });
  const last = stages[stages.length - 1];
  if (last) parts.push(output(last));
  return `<div class="lineage-graph" data-testid="lineage-graph" data-stages="${stages.length}">${parts.join("")}</div>`;
}
