// The dashboard end to end, in headless Debian Chromium driven by
// playwright-core: runs logged through the Python SDK into a real daemon,
// then the runs table (rows, states, a filter), a run page (a chart drawn
// with data, the config), a comparison of two runs, a chart that updates
// live while its run logs, requests without the token refused, and a
// pretrain -> sft -> rl chain: the model registry, a model's stage history,
// the lineage graph and a run's artifacts, and a run's media (images with a
// step slider, a sortable table, a histogram over steps, audio, sandboxed
// html and a plot chart), and a 2x3 grid sweep run by an agent: the Sweeps
// page, the sweep's runs table (sorted by a parameter), its parallel
// coordinates and parameter importance, and the links between a sweep and
// its runs; then a second sweep paused, resumed and cancelled with the sweep
// page's buttons (an error from the server shown, a declined confirm).
// Screenshots go to $SCREENSHOTS (default target/dashboard-screenshots).
//
// Run by tests/dashboard.sh, which installs Chromium and this package.
// Env: TRACKLAB_DAEMON_BIN (daemon binary), PYTHON (with tracklab installed).

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");
const daemonBin = process.env.TRACKLAB_DAEMON_BIN ?? join(repo, "target/debug/tracklab-daemon");
const python = process.env.PYTHON ?? join(repo, ".venv/bin/python");
const shots = process.env.SCREENSHOTS ?? join(repo, "target/dashboard-screenshots");
mkdirSync(shots, { recursive: true });

const data = mkdtempSync(join(tmpdir(), "tracklab-dash-"));
const env = { ...process.env, TRACKLAB_DIR: data, TRACKLAB_DAEMON_BIN: daemonBin };
const children = [];
let browser;

function fail(msg) {
  throw new Error(msg);
}

function check(cond, msg) {
  if (!cond) fail(msg);
}

function lines(child) {
  const rl = createInterface({ input: child.stdout });
  const waiting = [];
  const buffered = [];
  rl.on("line", (l) => (waiting.length ? waiting.shift()(l) : buffered.push(l)));
  return (ms = 60_000) =>
    buffered.length
      ? Promise.resolve(buffered.shift())
      : new Promise((ok, no) => {
          const t = setTimeout(() => no(new Error(`no output after ${ms} ms`)), ms);
          waiting.push((l) => (clearTimeout(t), ok(l)));
        });
}

async function startDaemon() {
  // The daemon's own log goes beside the screenshots, for a failure's story.
  const log = openSync(join(shots, "daemon.log"), "w");
  const d = spawn(daemonBin, ["--data-dir", data, "--port", "0"], {
    stdio: ["ignore", "pipe", log],
  });
  children.push(d);
  const next = lines(d);
  for (;;) {
    const l = await next(30_000);
    const m = l.match(/listening on (\S+)/);
    if (m) return m[1];
  }
}

async function step(name, fn) {
  const t0 = Date.now();
  await fn();
  console.log(`ok  ${name} (${Date.now() - t0} ms)`);
}

async function waitReady(page) {
  await page.waitForFunction(() => document.body.dataset.ready === "1", null, { timeout: 30_000 });
}

/** Pixels of a canvas (the element or the first inside it) that are not blank: a chart that drew lines has many. */
async function inkedPixels(locator) {
  return locator.evaluate((el) => {
    const canvas = el.tagName === "CANVAS" ? el : el.querySelector("canvas");
    if (!canvas) return -1;
    const ctx = canvas.getContext("2d");
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
    return n;
  });
}

const rowCount = (page) =>
  page.evaluate(() => document.querySelectorAll('[data-testid="runs-table"] tr[data-run-id]').length);

/** Waits until the sweep page's state badge reads `state`. */
async function waitSweepState(page, state) {
  await page.waitForFunction(
    (s) => document.querySelector('[data-testid="sweep-state"]')?.textContent === s,
    state,
    { timeout: 10_000 },
  );
}

/** The sweep page's state buttons shown, by action (`pause`, `resume`, `finish`, `cancel`). */
const sweepButtons = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="sweep-controls"] button')].map((b) => b.dataset.testid.replace(/^sweep-/, "")),
  );

async function waitRows(page, n) {
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="runs-table"] tr[data-run-id]').length === n,
    n,
  );
}

async function main() {
  const addr = await startDaemon();
  const token = readFileSync(join(data, "token"), "utf8").trim();
  const base = `http://${addr}`;
  // The chain, the media run and the sweep first: project "dash" stays the most recently active one.
  execFileSync(python, [join(here, "log_runs.py"), "chain"], { env, stdio: "inherit" });
  execFileSync(python, [join(here, "log_runs.py"), "media"], { env, stdio: "inherit" });
  const sweepOut = execFileSync(python, [join(here, "log_runs.py"), "sweep"], {
    env,
    stdio: ["ignore", "pipe", "inherit"],
  }).toString();
  const sweepId = sweepOut.match(/^sweep (\S+)$/m)?.[1];
  check(sweepId, `log_runs.py sweep printed the sweep id: ${sweepOut}`);
  const sweep2Id = sweepOut.match(/^sweep2 (\S+)$/m)?.[1];
  check(sweep2Id, `log_runs.py sweep printed the second sweep's id: ${sweepOut}`);
  execFileSync(python, [join(here, "log_runs.py"), "fixed"], { env, stdio: "inherit" });
  const live = spawn(python, [join(here, "log_runs.py"), "live"], {
    env,
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.push(live);
  const liveOut = lines(live);
  const liveId = (await liveOut()).split(" ")[1];

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });

  await step("a request without the token is refused", async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const r = await page.goto(`${base}/`);
    check(r.status() === 401, `page without token: ${r.status()}`);
    check((await page.content()).includes("tracklab ui"), "the 401 page says what to do");
    const api = await page.request.get(`${base}/api/v1/runs`);
    check(api.status() === 401, `API without token: ${api.status()}`);
    const wrong = await page.goto(`${base}/?token=${"0".repeat(token.length)}`);
    check(wrong.status() === 401, `wrong token: ${wrong.status()}`);
    await ctx.close();
  });

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const foreign = [];
  page.on("request", (r) => /^https?:/.test(r.url()) && !r.url().startsWith(`${base}/`) && foreign.push(r.url()));

  await step("the URL with the token opens the runs table", async () => {
    await page.goto(`${base}/?token=${token}`);
    check(!page.url().includes("token="), `token left in the address bar: ${page.url()}`);
    await waitReady(page);
    const table = page.getByTestId("runs-table");
    await table.locator("tr[data-run-id]").first().waitFor();
    const rows = table.locator("tr[data-run-id]");
    check((await rows.count()) === 5, `5 runs expected, got ${await rows.count()}`);
    const state = async (name) =>
      (await table.locator("tr[data-run-id]", { hasText: name }).getByTestId("state").innerText()).trim();
    check((await state("baseline")) === "finished", "baseline finished");
    check((await state("diverged")) === "failed", "diverged failed");
    check((await state("live-run")) === "running", "live-run running");
    await page.screenshot({ path: join(shots, "runs-table.png") });
  });

  await step("the search box filters the table", async () => {
    await page.getByTestId("search").fill("diverged");
    const rows = page.getByTestId("runs-table").locator("tr[data-run-id]");
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="runs-table"] tr[data-run-id]').length === 1,
    );
    check((await rows.first().innerText()).includes("diverged"), "the filtered row is diverged");
    await page.getByTestId("search").fill("");
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="runs-table"] tr[data-run-id]').length === 5,
    );
  });

  await step("state filter, group-by, sorting and a config column", async () => {
    await page.getByTestId("state-filter").selectOption("failed");
    await waitRows(page, 1);
    await page.getByTestId("state-filter").selectOption("");
    await waitRows(page, 5);
    await page.getByTestId("group-by").selectOption("group");
    const cv = page.locator('tr.group-row[data-group="cv"]');
    await cv.waitFor();
    check((await cv.innerText()).includes("2"), `group cv holds 2 runs: ${await cv.innerText()}`);
    await page.getByTestId("group-by").selectOption("");
    await page.locator('[data-testid="runs-table"] th[data-col="name"]').click();
    const names = await page.evaluate(() =>
      [...document.querySelectorAll('[data-testid="runs-table"] tr[data-run-id]')].map((r) =>
        r.querySelector("a")?.textContent?.trim(),
      ),
    );
    const sorted = [...names].sort();
    check(
      JSON.stringify(names) === JSON.stringify(sorted) || JSON.stringify(names) === JSON.stringify([...sorted].reverse()),
      `sorted by name: ${names}`,
    );
    await page.getByTestId("columns-button").click();
    await page.locator('[data-testid="columns-picker"] input[data-col="config:lr"]').check();
    const lr = page.locator('[data-testid="runs-table"] th[data-col="config:lr"]');
    await lr.waitFor();
    const cell = await page
      .getByTestId("runs-table")
      .locator("tr[data-run-id]", { hasText: "diverged" })
      .innerText();
    check(cell.includes("1"), `the lr column shows diverged's lr: ${cell}`);
    await page.keyboard.press("Escape");
    check((await rowCount(page)) === 5, "all rows still there");
  });

  await step("a run page shows its config and a chart drawn with data", async () => {
    await page.getByTestId("runs-table").locator("tr[data-run-id]", { hasText: "baseline" }).getByRole("link").first().click();
    await page.getByTestId("run-page").waitFor();
    await waitReady(page);
    const config = await page.getByTestId("config").innerText();
    check(config.includes("lr") && config.includes("0.1"), `config shown: ${config}`);
    check(config.includes("batch_size"), "nested and flat config keys shown");
    const meta = await page.getByTestId("metadata").innerText();
    check(meta.includes("log_runs.py") && meta.includes("python"), `command and Python shown: ${meta}`);
    check(/requirements\.txt \(\d+\)/.test(meta), `the requirements snapshot is shown: ${meta}`);
    const consoleText = await page.getByTestId("console").innerText();
    check(
      consoleText.includes("done training") && consoleText.includes("slow disk"),
      `console lines shown: ${consoleText}`,
    );
    const warnings = await page.getByTestId("warnings").innerText();
    check(/dropped|step/i.test(warnings), `the dropped step is reported: ${warnings}`);
    const chart = page.locator('[data-testid="chart"][data-metric="train/loss"]');
    await chart.waitFor();
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="chart"][data-metric="train/loss"]')?.dataset.points) > 0,
    );
    check(Number(await chart.getAttribute("data-points")) === 300, "300 points of train/loss");
    const ink = await inkedPixels(chart);
    check(ink > 500, `the chart's canvas is drawn (${ink} inked pixels)`);
    await page.screenshot({ path: join(shots, "run-page.png"), fullPage: true });
  });

  await step("notes and tags saved from the run page are kept", async () => {
    await page.getByTestId("notes").fill("tuned by hand");
    await page.getByTestId("tags").fill("e2e, best");
    const saved = page.waitForResponse((r) => r.request().method() === "PATCH" && r.status() === 200);
    await page.getByTestId("save-run").click();
    await saved;
    await page.reload();
    await page.getByTestId("run-page").waitFor();
    await waitReady(page);
    check((await page.getByTestId("notes").inputValue()) === "tuned by hand", "notes kept");
    check((await page.getByTestId("tags").inputValue()).replace(/\s/g, "") === "e2e,best", "tags kept");
  });

  await step("two runs compared on shared charts", async () => {
    await page.goto(`${base}/#/`);
    await waitReady(page);
    const table = page.getByTestId("runs-table");
    for (const name of ["baseline", "small-lr"]) {
      await table.locator("tr[data-run-id]", { hasText: name }).getByTestId("select-run").check();
    }
    await page.getByTestId("compare-button").click();
    await page.getByTestId("compare-page").waitFor();
    await waitReady(page);
    const chart = page.locator('[data-testid="chart"][data-metric="train/loss"]');
    await chart.waitFor();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="chart"][data-metric="train/loss"]')?.dataset.series === "2",
    );
    check((await inkedPixels(chart)) > 500, "the comparison chart is drawn");
    const diff = await page.getByTestId("config-diff").innerText();
    check(diff.includes("lr"), `config differences list lr: ${diff}`);
    check(!diff.includes("batch_size"), "equal config keys are not differences");
    await page.screenshot({ path: join(shots, "compare.png"), fullPage: true });
  });

  await step("compare: x axis, smoothing, log scale and a zoom that asks for finer points", async () => {
    const asked = [];
    page.on("request", (r) => r.url().includes("/history") && asked.push(decodeURIComponent(r.url())));
    const drawn = () =>
      page.waitForFunction(
        () => document.querySelector('[data-testid="chart"][data-metric="train/loss"]')?.dataset.series === "2",
      );
    await page.getByTestId("x-axis").selectOption("_runtime");
    await page.waitForFunction(() => document.body.dataset.ready === "1");
    await drawn();
    check(asked.some((u) => u.includes("x=_runtime")), `relative time asks for x=_runtime: ${asked}`);
    await page.getByTestId("smoothing").fill("0.9");
    await page.getByTestId("log-scale").check();
    const chart = page.locator('[data-testid="chart"][data-metric="train/loss"]');
    check((await inkedPixels(chart)) > 500, "smoothed log-scale chart drawn");
    await page.getByTestId("x-axis").selectOption("");
    await drawn();
    asked.length = 0;
    const over = chart.locator(".u-over");
    const box = await over.boundingBox();
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    const t0 = Date.now();
    while (!asked.some((u) => u.includes("min_step=") && u.includes("max_step=")) && Date.now() - t0 < 5000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    check(
      asked.some((u) => u.includes("min_step=") && u.includes("max_step=")),
      `a zoom asks the server for the step range: ${asked}`,
    );
  });

  await step("a chart updates live while its run logs", async () => {
    await page.goto(`${base}/#/run/${liveId}`);
    await page.getByTestId("run-page").waitFor();
    await waitReady(page);
    const points = () =>
      page.evaluate(
        () => Number(document.querySelector('[data-testid="chart"][data-metric="train/loss"]')?.dataset.points ?? 0),
      );
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="chart"][data-metric="train/loss"]')?.dataset.points) === 100,
    );
    const history = [];
    page.on("request", (r) => r.url().includes("/history") && history.push(r.url()));
    const t0 = Date.now();
    live.stdin.write("more\n");
    await liveOut();
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="chart"][data-metric="train/loss"]')?.dataset.points) === 150,
      null,
      { timeout: 10_000 },
    );
    const ms = Date.now() - t0;
    check((await points()) === 150, "150 points after 50 more");
    // Playwright reports requests asynchronously: give the event a moment.
    for (let i = 0; i < 40 && history.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    check(
      history.length > 0 && history.every((u) => u.includes("min_step=")),
      `live updates fetch only new steps: ${history.join(" ")}`,
    );
    console.log(`    live update seen ${ms} ms after the points were durable`);
    live.stdin.write("finish\n");
    await liveOut();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="run-state"]')?.textContent?.trim() === "finished",
      null,
      { timeout: 10_000 },
    );
    await page.screenshot({ path: join(shots, "live-run.png"), fullPage: true });
  });

  await step("the Models page lists chat with v1 in Production", async () => {
    await page.goto(`${base}/#/`);
    await waitReady(page);
    await page.getByTestId("nav-models").click();
    await page.getByTestId("models-page").waitFor();
    await waitReady(page);
    const row = page.locator('[data-testid="models-table"] tr[data-model="chat"]');
    await row.waitFor();
    check((await row.getByTestId("production").innerText()).trim() === "v1", "chat v1 is in Production");
    check((await row.getByTestId("staging").innerText()).trim() === "–", "nothing in Staging");
    check((await row.getByTestId("versions").innerText()).trim() === "1", "chat has one version");
    const aliases = await row.getByTestId("aliases").innerText();
    check(aliases.includes("champion") && aliases.includes("v1"), `the alias is listed: ${aliases}`);
  });

  await step("the model page shows its version and the stage change with its reason", async () => {
    await page.locator('[data-testid="models-table"] tr[data-model="chat"] a').first().click();
    await page.getByTestId("model-page").waitFor();
    await waitReady(page);
    const v1 = page.locator('[data-testid="versions"] tr[data-version="1"]');
    check((await v1.getByTestId("model-stage").innerText()).trim() === "Production", "v1's stage badge");
    const text = await v1.innerText();
    check(text.includes("rl-ckpt") && text.includes("first RL model"), `artifact and reason shown: ${text}`);
    check((await v1.getByTestId("source-run").innerText()).trim() === "rl1", "the source run is rl1");
    check((await v1.getByTestId("source-run").getAttribute("href")) === "#/run/rl1", "it links to the run's page");
    const t = page.locator('[data-testid="history"][data-version="1"] [data-testid="transition"]');
    check((await t.count()) === 1, `one stage change, got ${await t.count()}`);
    const change = await t.first().innerText();
    check(/None\s*→\s*Production/.test(change), `None -> Production: ${change}`);
    check((await t.first().getByTestId("transition-reason").innerText()).trim() === "ship it", "the reason is shown");
    await page.screenshot({ path: join(shots, "model.png"), fullPage: true });
  });

  await step("the lineage of models:/chat/1 is drawn pretrain -> sft -> rl", async () => {
    await page.locator('[data-testid="versions"] tr[data-version="1"]').getByTestId("lineage-link").click();
    await page.getByTestId("lineage-page").waitFor();
    await waitReady(page);
    check(page.url().endsWith(`#/lineage/${encodeURIComponent("models:/chat/1")}`), `lineage URL: ${page.url()}`);
    const graph = page.getByTestId("lineage-graph");
    await graph.waitFor();
    const stages = graph.locator('[data-testid="stage"]');
    const boxes = await stages.evaluateAll((els) =>
      els.map((e) => ({ stage: e.dataset.stage, run: e.dataset.runId, x: e.getBoundingClientRect().x, text: e.innerText })),
    );
    check(boxes.length === 3, `3 stage boxes, got ${boxes.length}`);
    check(JSON.stringify(boxes.map((b) => b.stage)) === '["pretrain","sft","rl"]', `stage order: ${boxes.map((b) => b.stage)}`);
    check(JSON.stringify(boxes.map((b) => b.run)) === '["pretrain1","sft1","rl1"]', `run ids: ${boxes.map((b) => b.run)}`);
    check(boxes[0].x < boxes[1].x && boxes[1].x < boxes[2].x, `boxes left to right: ${boxes.map((b) => b.x)}`);
    for (const b of boxes) {
      check(b.text.includes("corpus:v0") && b.text.includes("finished"), `${b.stage}: dataset and state shown`);
      check(/loss/.test(b.text) && /lr/.test(b.text), `${b.stage}: a metric and a hyperparameter shown: ${b.text}`);
    }
    const edges = await graph.locator('[data-testid="edge"]').evaluateAll((els) =>
      els.map((e) => ({ artifact: e.dataset.artifact, label: e.innerText.trim(), x: e.getBoundingClientRect().x })),
    );
    check(
      JSON.stringify(edges.map((e) => e.label)) === '["pretrain-ckpt:v0","sft-ckpt:v0"]',
      `arrows labelled with the checkpoints: ${edges.map((e) => e.label)}`,
    );
    check(
      boxes[0].x < edges[0].x && edges[0].x < boxes[1].x && boxes[1].x < edges[1].x && edges[1].x < boxes[2].x,
      "each arrow sits between its stages",
    );
    await page.screenshot({ path: join(shots, "lineage.png"), fullPage: true });
  });

  await step("the rl run's page lists what it logged and used", async () => {
    await page.locator('[data-testid="stage"][data-run-id="rl1"]').getByTestId("stage-run").click();
    await page.getByTestId("run-page").waitFor();
    await waitReady(page);
    const card = page.getByTestId("artifacts");
    check(await card.isVisible(), "the Artifacts section is shown");
    const out = card.locator('[data-testid="artifact-out"]');
    check((await out.count()) === 1, `one output, got ${await out.count()}`);
    check((await out.getAttribute("data-artifact")) === "rl-ckpt:v0", "the output is rl-ckpt:v0");
    check((await out.innerText()).includes("final_checkpoint"), "with its role");
    const inputs = await card
      .locator('[data-testid="artifact-in"]')
      .evaluateAll((els) => els.map((e) => `${e.dataset.artifact}=${e.dataset.role}`).sort());
    check(
      JSON.stringify(inputs) === '["corpus:v0=dataset","sft-ckpt:v0=base_model"]',
      `inputs with roles: ${inputs}`,
    );
    const base = await card.locator('[data-testid="artifact-in"][data-artifact="sft-ckpt:v0"]').innerText();
    check(base.includes("base_model") && base.includes("sft1"), `the base model, logged by sft1: ${base}`);
    await page.screenshot({ path: join(shots, "run-artifacts.png"), fullPage: true });
    await card.getByTestId("lineage-link").click();
    await page.getByTestId("lineage-page").waitFor();
    await waitReady(page);
    check(page.url().endsWith("#/lineage/rl1"), `the run's lineage link: ${page.url()}`);
    check((await page.locator('[data-testid="lineage-graph"] [data-testid="stage"]').count()) === 3, "3 stages behind rl1");
  });

  await step("a run without artifacts has no Artifacts section", async () => {
    await page.goto(`${base}/#/run/${liveId}`);
    await page.getByTestId("run-page").waitFor();
    await waitReady(page);
    check(await page.getByTestId("artifacts").isHidden(), "the section is hidden");
  });

  await step("a run's media: images over steps, a table, a histogram, audio, html and a chart", async () => {
    await page.goto(`${base}/#/run/media1`);
    await page.getByTestId("run-page").waitFor();
    await waitReady(page);
    const panel = (key) => page.locator(`[data-testid="media-panel"][data-key="${key}"]`);
    const loaded = (key) =>
      page.waitForFunction(
        (key) => document.querySelector(`[data-testid="media-panel"][data-key="${key}"]`)?.dataset.loaded === "1",
        key,
      );
    check(
      (await page.locator('[data-testid="chart"][data-metric="samples"]').count()) === 0,
      "a media key gets no line chart",
    );
    check((await page.locator('[data-testid="chart"][data-metric="loss"]').count()) === 1, "loss is still charted");

    // Image: 3 steps, the newest shown; the slider goes back to step 0.
    const samples = panel("samples");
    check((await samples.getAttribute("data-type")) === "image-file", "samples is an image panel");
    check((await samples.getAttribute("data-steps")) === "3", `3 image steps: ${await samples.getAttribute("data-steps")}`);
    check((await samples.getAttribute("data-step")) === "2", "the newest step is shown first");
    const img = samples.getByTestId("media-image");
    const natural = () =>
      img.evaluate((i) =>
        i.complete ? i.naturalWidth : new Promise((ok) => i.addEventListener("load", () => ok(i.naturalWidth), { once: true })),
      );
    check((await natural()) === 8, "the image loads 8 pixels wide");
    const src2 = await img.getAttribute("src");
    check(src2.includes("/api/v1/runs/media1/files/media/"), `the image comes from the run's files: ${src2}`);
    check((await samples.innerText()).includes("sample at step 2"), "the caption is shown");
    await samples.getByTestId("media-step").fill("0");
    await loaded("samples");
    check((await samples.getAttribute("data-step")) === "0", "the slider shows step 0");
    const src0 = await img.getAttribute("src");
    check(src0 !== src2, `the slider changes the image: ${src0}`);
    check((await natural()) === 8, "step 0's image loads too");
    check((await samples.innerText()).includes("sample at step 0"), "with its caption");

    // Table: rows as logged; a header click sorts (numbers as numbers).
    await loaded("predictions");
    const table = panel("predictions").getByTestId("media-table");
    const column = (i) =>
      table.evaluate((t, i) => [...t.querySelectorAll("tbody tr")].map((r) => r.children[i].textContent), i);
    check(JSON.stringify(await column(0)) === '["3","1","10","2"]', `rows as logged: ${await column(0)}`);
    await table.locator('th[data-col="0"]').click();
    check(JSON.stringify(await column(0)) === '["1","2","3","10"]', `sorted by id: ${await column(0)}`);
    await table.locator('th[data-col="0"]').click();
    check(JSON.stringify(await column(0)) === '["10","3","2","1"]', `id descending: ${await column(0)}`);
    await table.locator('th[data-col="1"]').click();
    check(JSON.stringify(await column(1)) === '["ant","bee","cat","dog"]', `sorted by label: ${await column(1)}`);

    // Histogram: one heatmap row per step, and the latest step's bars.
    const heat = panel("weights").getByTestId("histogram-heatmap");
    check((await heat.getAttribute("data-steps")) === "5", `5 histogram steps: ${await heat.getAttribute("data-steps")}`);
    check((await inkedPixels(heat)) > 500, "the heatmap is drawn");
    check((await inkedPixels(panel("weights").getByTestId("histogram-bars"))) > 200, "the latest step's bars are drawn");

    // Audio: a player whose file the browser can read.
    const audio = panel("tone").getByTestId("media-audio");
    check((await audio.count()) === 1, "an audio element");
    const duration = await audio.evaluate((a) =>
      a.readyState >= 1
        ? a.duration
        : new Promise((ok) => {
            a.addEventListener("loadedmetadata", () => ok(a.duration), { once: true });
            a.addEventListener("error", () => ok(-1), { once: true });
            a.load();
          }),
    );
    check(Math.abs(duration - 0.5) < 0.05, `the audio lasts 0.5 s: ${duration}`);

    // Html: a sandboxed frame (no scripts, no same-origin) showing the page.
    const frame = panel("page").getByTestId("media-html");
    check((await frame.getAttribute("sandbox")) === "", `the iframe is fully sandboxed: ${await frame.getAttribute("sandbox")}`);
    const inner = page.frameLocator('[data-testid="media-panel"][data-key="page"] iframe');
    check((await inner.locator("h1").innerText()) === "Media page", "the html is shown in the frame");

    // plot.line: a uPlot chart of the table's 10 points.
    await loaded("curve");
    const chart = panel("curve").getByTestId("media-chart");
    check((await chart.getAttribute("data-points")) === "10", `10 points plotted: ${await chart.getAttribute("data-points")}`);
    check((await inkedPixels(chart)) > 300, "the plot chart is drawn");

    // Plotly: the figure's scatter trace, drawn with uPlot.
    await loaded("fig");
    const fig = panel("fig").getByTestId("media-chart");
    check((await fig.getAttribute("data-points")) === "7", `7 plotly points plotted: ${await fig.getAttribute("data-points")}`);
    check((await inkedPixels(fig)) > 300, "the plotly chart is drawn");

    const summary = await page.getByTestId("summary").innerText();
    check(summary.includes("image 8×8") && !summary.includes("_type"), `media shown briefly in the summary: ${summary}`);
    await page.screenshot({ path: join(shots, "run-media.png"), fullPage: true });
  });

  // The sweep: lr [0.1, 0.01] x layers [1, 2, 3], loss minimised; the best
  // run is lr=0.01, layers=3.
  const sweepDoc = await (await page.request.get(`${base}/api/v1/sweeps/${sweepId}`)).json();
  const bestRun = sweepDoc.runs.find((r) => r.params.lr === 0.01 && r.params.layers === 3)?.id;
  check(bestRun && sweepDoc.best?.run_id === bestRun, `the best run is lr=0.01 layers=3: ${JSON.stringify(sweepDoc.best)}`);

  await step("the Sweeps page lists the grid sweep with its 6 runs and best run", async () => {
    await page.goto(`${base}/#/`);
    await waitReady(page);
    await page.getByTestId("nav-sweeps").click();
    await page.getByTestId("sweeps-page").waitFor();
    await waitReady(page);
    const row = page.locator(`[data-testid="sweeps-table"] tr[data-sweep-id="${sweepId}"]`);
    await row.waitFor();
    check((await row.getByTestId("runs").getAttribute("data-runs")) === "6", `6 runs: ${await row.innerText()}`);
    check((await row.getByTestId("method").innerText()).trim() === "grid", "method grid");
    check((await row.getByTestId("metric").innerText()).includes("loss"), "metric loss");
    const text = await row.innerText();
    check(text.includes("grid-demo") && text.includes("sweeps"), `name and project shown: ${text}`);
    check(
      (await row.getByTestId("best-run").getAttribute("href")) === `#/run/${bestRun}`,
      "the best value links to the best run",
    );
    // The second sweep (no runs yet) is listed too, newest first.
    const row2 = page.locator(`[data-testid="sweeps-table"] tr[data-sweep-id="${sweep2Id}"]`);
    check((await row2.getByTestId("runs").getAttribute("data-runs")) === "0", `no runs: ${await row2.innerText()}`);
    check((await row2.getByTestId("method").innerText()).trim() === "random", "method random");
    const order = await page
      .locator('[data-testid="sweeps-table"] tr[data-sweep-id]')
      .evaluateAll((els) => els.map((e) => e.dataset.sweepId));
    check(JSON.stringify(order) === JSON.stringify([sweep2Id, sweepId]), `newest first: ${order}`);
  });

  await step("a sweep page: runs sorted by a parameter, parallel coordinates, importance", async () => {
    await page.locator(`[data-testid="sweeps-table"] tr[data-sweep-id="${sweepId}"]`).getByTestId("sweep-link").click();
    await page.getByTestId("sweep-page").waitFor();
    await waitReady(page);
    check(page.url().endsWith(`#/sweeps/${sweepId}`), `sweep URL: ${page.url()}`);
    check((await page.getByTestId("sweep-method").innerText()).includes("grid"), "the header names the method");
    check((await page.getByTestId("sweep-metric").innerText()).includes("loss"), "and the metric");
    check((await page.getByTestId("sweep-grid").innerText()).includes("6"), "and the grid's size");
    // The agent ran the whole grid, which finished the sweep: nothing to change.
    check((await page.getByTestId("sweep-state").innerText()).trim() === "finished", "the grid sweep is finished");
    check((await page.getByTestId("sweep-controls").count()) === 0, `no state buttons: ${await sweepButtons(page)}`);
    const table = page.getByTestId("sweep-runs");
    const rows = table.locator("tbody tr[data-run-id]");
    check((await rows.count()) === 6, `6 rows, got ${await rows.count()}`);
    const states = await rows.getByTestId("state").allInnerTexts();
    check(states.every((s) => s.trim() === "finished"), `all finished: ${states}`);
    // A click on the lr header sorts by lr, a second one reverses.
    const lrColumn = () =>
      table.evaluate((t) => {
        const i = [...t.querySelectorAll("thead th")].findIndex((th) => th.dataset.col === "param:lr");
        return [...t.querySelectorAll("tbody tr")].map((r) => Number(r.children[i].textContent));
      });
    const lr = table.locator('th[data-col="param:lr"]');
    await lr.click();
    check((await lr.getAttribute("data-sort")) === "asc", "lr sorted ascending");
    check(JSON.stringify(await lrColumn()) === "[0.01,0.01,0.01,0.1,0.1,0.1]", `lr ascending: ${await lrColumn()}`);
    await lr.click();
    check(JSON.stringify(await lrColumn()) === "[0.1,0.1,0.1,0.01,0.01,0.01]", `lr descending: ${await lrColumn()}`);
    check((await rows.count()) === 6, "still 6 rows");

    const pc = page.getByTestId("parallel-coords");
    const lines = pc.locator('[data-testid="pc-line"]');
    check((await lines.count()) === 6, `6 run lines, got ${await lines.count()}`);
    const axes = await pc.locator('[data-testid="pc-axis"]').evaluateAll((els) => els.map((e) => e.dataset.axis).sort());
    check(JSON.stringify(axes) === '["layers","loss","lr"]', `an axis per parameter and the metric: ${axes}`);
    const points = await lines.evaluateAll((els) => els.map((e) => e.getAttribute("points").trim().split(/\s+/).length));
    check(points.every((n) => n === 3), `each line crosses the 3 axes: ${points}`);
    const ids = await lines.evaluateAll((els) => els.map((e) => e.dataset.runId).sort());
    check(JSON.stringify(ids) === JSON.stringify(sweepDoc.runs.map((r) => r.id).sort()), "one line per run");

    const imp = page.getByTestId("param-importance");
    const params = await imp.locator("tr[data-param]").evaluateAll((els) => els.map((e) => e.dataset.param).sort());
    check(JSON.stringify(params) === '["layers","lr"]', `importance lists lr and layers: ${params}`);
    const scores = await imp.getByTestId("importance").allInnerTexts();
    const sum = scores.reduce((a, s) => a + Number(s.trim()), 0);
    check(Math.abs(sum - 1) < 0.02, `importances sum to 1: ${scores}`);
    const lrCorr = (await imp.locator('tr[data-param="lr"]').getByTestId("correlation").innerText()).trim();
    check(lrCorr.startsWith("+"), `a larger lr gives a larger loss: ${lrCorr}`);
    check((await imp.innerText()).toLowerCase().includes("correlation-based"), "the panel says how it is computed");
    check(
      (await page.getByTestId("sweep-best").getByTestId("best-run").getAttribute("href")) === `#/run/${bestRun}`,
      "the header links the best run",
    );
    await page.screenshot({ path: join(shots, "sweep.png"), fullPage: true });
  });

  await step("a sweep's run links back to its sweep; the runs table shows and groups by sweep", async () => {
    const link = page.locator(`[data-testid="sweep-runs"] tr[data-run-id="${bestRun}"]`).getByTestId("sweep-run-link");
    await link.click();
    await page.getByTestId("run-page").waitFor();
    await waitReady(page);
    check(page.url().endsWith(`#/run/${bestRun}`), `the run's page: ${page.url()}`);
    const back = page.getByTestId("run-sweep");
    check((await back.innerText()).trim() === sweepId, `the run names its sweep: ${await back.innerText()}`);
    check((await back.getAttribute("href")) === `#/sweeps/${sweepId}`, "and links to it");
    await back.click();
    await page.getByTestId("sweep-page").waitFor();
    await waitReady(page);

    await page.goto(`${base}/#/p/sweeps`);
    await waitReady(page);
    await waitRows(page, 6);
    const badges = page.locator('[data-testid="runs-table"] [data-testid="sweep-badge"]');
    check((await badges.count()) === 6, `each run shows its sweep: ${await badges.count()}`);
    check((await badges.first().getAttribute("href")) === `#/sweeps/${sweepId}`, "the badge links to the sweep");
    await page.getByTestId("group-by").selectOption("sweep");
    const group = page.locator(`tr.group-row[data-group="${sweepId}"]`);
    await group.waitFor();
    check((await group.innerText()).includes("6"), `the sweep's group holds 6 runs: ${await group.innerText()}`);
    await page.getByTestId("group-by").selectOption("");
  });

  await step("a sweep's buttons pause, resume and cancel it; the server's error is shown", async () => {
    const serverState = async () =>
      (await (await page.request.get(`${base}/api/v1/sweeps/${sweep2Id}`)).json()).state;
    await page.goto(`${base}/#/sweeps/${sweep2Id}`);
    await page.getByTestId("sweep-page").waitFor();
    await waitReady(page);
    check((await page.getByTestId("sweep-state").innerText()).trim() === "running", "the new sweep is running");
    check(JSON.stringify(await sweepButtons(page)) === '["pause","finish","cancel"]', `running: ${await sweepButtons(page)}`);
    const title = async (id) => (await page.getByTestId(id).getAttribute("title")).toLowerCase();
    check((await title("sweep-finish")).includes("stop handing out runs"), "Finish says what it does");
    check((await title("sweep-cancel")).includes("stop running ones"), "and Cancel");

    // A refusal shows the server's error text and changes nothing.
    await page.route(
      `${base}/api/v1/sweeps/${sweep2Id}/state`,
      (route) =>
        route.fulfill({ status: 400, contentType: "application/json", body: JSON.stringify({ error: "refused for the test" }) }),
      { times: 1 },
    );
    await page.getByTestId("sweep-pause").click();
    const status = page.getByTestId("sweep-control-status");
    await page.waitForFunction(() =>
      document.querySelector('[data-testid="sweep-control-status"]')?.textContent.includes("refused for the test"),
    );
    check((await page.getByTestId("sweep-state").innerText()).trim() === "running", "still running after the refusal");
    check(!(await page.getByTestId("sweep-pause").isDisabled()), "the buttons work again");
    await page.unrouteAll();

    await page.getByTestId("sweep-pause").click();
    await waitSweepState(page, "paused");
    check(JSON.stringify(await sweepButtons(page)) === '["resume","finish","cancel"]', `paused: ${await sweepButtons(page)}`);
    check((await status.innerText()).trim() === "", `the error is gone: ${await status.innerText()}`);
    check((await serverState()) === "paused", "the daemon has it paused");
    await page.screenshot({ path: join(shots, "sweep-paused.png") });

    await page.getByTestId("sweep-resume").click();
    await waitSweepState(page, "running");
    check(JSON.stringify(await sweepButtons(page)) === '["pause","finish","cancel"]', `resumed: ${await sweepButtons(page)}`);
    check((await serverState()) === "running", "the daemon has it running");

    // Cancel asks first: declined, nothing happens.
    let asked = "";
    page.once("dialog", (d) => ((asked = d.message()), d.dismiss()));
    await page.getByTestId("sweep-cancel").click();
    check(asked.includes("Cancel sweep"), `Cancel asks first: ${asked}`);
    check((await serverState()) === "running", "a declined cancel changes nothing");
    check((await page.getByTestId("sweep-state").innerText()).trim() === "running", "still running on the page");

    page.once("dialog", (d) => d.accept());
    await page.getByTestId("sweep-cancel").click();
    await waitSweepState(page, "cancelled");
    check((await page.getByTestId("sweep-controls").count()) === 0, `no buttons once cancelled: ${await sweepButtons(page)}`);
    check((await serverState()) === "cancelled", "the daemon has it cancelled");
    await page.screenshot({ path: join(shots, "sweep-cancelled.png") });
  });

  check(errors.length === 0, `errors in the page: ${errors.join("; ")}`);
  check(foreign.length === 0, `requests to other origins: ${foreign.join(" ")}`);
  console.log(`dashboard e2e: ok (screenshots in ${shots})`);
}

try {
  await main();
} catch (e) {
  console.error(`dashboard e2e FAILED: ${e.stack ?? e}`);
  console.error(`(the daemon's log and the screenshots so far are in ${shots})`);
  process.exitCode = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
  for (const c of children) c.kill("SIGKILL");
  rmSync(data, { recursive: true, force: true });
}
