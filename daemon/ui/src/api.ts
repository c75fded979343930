// The daemon's JSON API (daemon/src/http/API.md): typed fetch helpers and
// the server-sent event stream.

/** A JSON value as the API sends it; floats NaN/±inf are strings. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Scalar = number | string | boolean | null;

export type RunState = "running" | "finished" | "failed" | "crashed" | string;

export interface Project {
  name: string;
  runs: number;
  running: number;
  last_created_us: number;
}

/** One row of the runs table (also the data of an SSE `run` event). */
export interface RunRow {
  id: string;
  name: string;
  project: string;
  state: RunState;
  exit_code: number;
  created_us: number;
  updated_us: number;
  duration_s: number;
  steps: number;
  group: string;
  job_type: string;
  /** The sweep the run belongs to ("" when none). */
  sweep: string;
  tags: string[];
  notes: string;
  host: string;
  user: string;
  deleted: boolean;
  /** Flat keys (nested names joined with `.`). */
  config: Record<string, Scalar>;
  summary: Record<string, Scalar>;
}

export interface MetricDef {
  name: string;
  glob: boolean;
  step_metric: string;
  step_sync?: boolean;
  hidden: boolean;
  summary?: string[];
  goal: "minimize" | "maximize" | null;
}

export interface GitInfo {
  commit: string;
  branch: string;
  remote: string;
  dirty: boolean;
}

/** The whole run (`GET /api/v1/runs/{id}`). */
export interface RunDoc {
  id: string;
  name: string;
  project: string;
  state: RunState;
  exit_code: number;
  created_us: number;
  updated_us: number;
  duration_s: number;
  steps: number;
  next_step?: number;
  group: string;
  job_type: string;
  /** The sweep the run belongs to ("" when none). */
  sweep: string;
  tags: string[];
  notes: string;
  deleted: boolean;
  resumed?: boolean;
  host: string;
  user: string;
  program: string;
  args: string[];
  python: string;
  git: GitInfo | null;
  /** Nested objects. */
  config: Record<string, Json>;
  summary: Record<string, Json>;
  metrics: MetricDef[];
  dropped_steps: number;
  warnings: string[];
  console_lines: number;
  files: string[];
  history_keys: string[];
  system_keys: string[];
  requirements: string | null;
}

export interface Series {
  key: string;
  steps: number[];
  values: Json[];
  total_points: number;
  x?: Json[];
}

export interface ConsoleLine {
  stream: "stdout" | "stderr" | string;
  line: string;
  timestamp_us: number;
}

/** `GET /api/v1/compare` (crates/tracklab-view/src/compare.rs `to_json`). */
export interface CompareJson {
  runs: { id: string; name: string }[];
  config: { key: string; values: (string | null)[] }[];
  metrics: { key: string; goal: "min" | "max" | null; values: Json[]; best_run: string | null }[];
}

/** An artifact version (`tracklab artifacts show --json`). */
export interface Artifact {
  project: string;
  name: string;
  /** `v0`, `v1`, … */
  version: string;
  type: string;
  digest: string;
  aliases: string[];
  description: string;
  metadata: Record<string, Json> | null;
  size: number;
  files: { path: string; digest: string; size: number; ref: string | null }[];
  created_by: string;
  created_us: number;
  created_at: string;
  /** The role the logging run gave it (`final_checkpoint`, …), or "". */
  role: string;
  logged_by: string[];
  used_by: { run_id: string; role: string }[];
}

/** `GET /api/v1/runs/{id}/artifacts`: what a run logged and used. */
export interface RunArtifacts {
  logged: Artifact[];
  used: { artifact: Artifact; role: string }[];
}

export type ModelStage = "None" | "Staging" | "Production" | "Archived" | string;

export interface StageTransition {
  from: ModelStage;
  to: ModelStage;
  timestamp_us: number;
  user: string;
  reason: string;
}

export interface ModelVersion {
  version: number;
  stage: ModelStage;
  aliases: string[];
  artifact: { project: string; name: string; digest: string };
  source_run: string;
  created_us: number;
  user: string;
  reason: string;
  transitions: StageTransition[];
}

/** A registered model (`GET /api/v1/models/{name}`). */
export interface Model {
  name: string;
  created_us: number;
  versions: ModelVersion[];
}

/** The short reference to an artifact version in a lineage document. */
export interface ArtifactRef {
  project: string;
  name: string;
  version: string;
  type: string;
  digest: string;
  aliases: string[];
}

/** One training stage (a run) of a lineage chain. */
export interface LineageStage {
  index: number;
  stage: string;
  run_id: string;
  run_name: string;
  project: string;
  state: RunState;
  steps: number;
  base_model: ArtifactRef | null;
  dataset: ArtifactRef | null;
  final_checkpoint: ArtifactRef | null;
  /** Flat keys. */
  metrics: Record<string, Json>;
  hyperparameters: Record<string, Json>;
}

/** `GET /api/v1/lineage?target=T` (`tracklab lineage --format json`), first stage first. */
export interface Lineage {
  target: string;
  stages: LineageStage[];
}

export type SweepState = "running" | "paused" | "finished" | "cancelled" | string;

/** A change of a sweep's state (`POST /api/v1/sweeps/{id}/state`). */
export type SweepAction = "pause" | "resume" | "finish" | "cancel";

/** One run of a sweep, in the order the controller handed them out. */
export interface SweepRun {
  id: string;
  name: string;
  /** `pending` until the run starts, then the run's state. */
  state: "pending" | RunState;
  /** Nested parameters as the run got them. */
  params: Record<string, Json>;
  /** The same, flat (`opt.momentum`). */
  flat_params: Record<string, Json>;
  /** The metric's last value (null before it is logged, or NaN). */
  metric: number | null;
  /** The run's best value of the metric (goal-aware). */
  best: number | null;
  /** Values of the metric logged. */
  iterations: number;
  /** Stopped early (hyperband, or the sweep was cancelled). */
  stopped: boolean;
  stop_reason: string | null;
  agent: string;
}

/** A sweep (`GET /api/v1/sweeps/{id}`; daemon/src/sweeps/mod.rs). */
export interface Sweep {
  id: string;
  project: string;
  name: string;
  method: "grid" | "random" | "bayes" | string;
  metric: { name: string; goal: "minimize" | "maximize" } | null;
  state: SweepState;
  created_us: number;
  /** Flat parameter names. */
  parameters: string[];
  grid_size: number | null;
  run_cap: number | null;
  early_terminate: { type: string; bands: number[]; eta: number; strict: boolean } | null;
  /** The sweep config as given. */
  config: Json;
  best: { run_id: string; value: number } | null;
  runs: SweepRun[];
}

/** The token cookie is missing or wrong. */
export class AuthError extends Error {
  constructor() {
    super("Not authorised: open the URL that `tracklab ui` prints.");
  }
}

/** Any other non-2xx answer, with the server's `error` text. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A request with same-origin credentials; `503` (catching up) is retried; non-2xx throws. */
async function send(path: string, init: RequestInit = {}, signal?: AbortSignal): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(path, { credentials: "same-origin", ...init, signal: signal ?? null });
    if (res.status === 401) throw new AuthError();
    if (res.status === 503 && attempt < 20) {
      await sleep(500);
      continue;
    }
    if (!res.ok) {
      let msg = `${res.status} ${res.statusText}`;
      try {
        const body = (await res.json()) as { error?: string };
        if (body.error) msg = body.error;
      } catch {
        /* not JSON */
      }
      throw new HttpError(res.status, msg);
    }
    return res;
  }
}

/** A JSON request (see `send`). */
export async function request<T>(path: string, init: RequestInit = {}, signal?: AbortSignal): Promise<T> {
  return (await (await send(path, init, signal)).json()) as T;
}

const enc = encodeURIComponent;

/** Fills fields a row may lack, so the page never trips on a partial row. */
function normRow(r: RunRow): RunRow {
  return {
    ...r,
    name: r.name ?? "",
    group: r.group ?? "",
    job_type: r.job_type ?? "",
    sweep: r.sweep ?? "",
    notes: r.notes ?? "",
    tags: r.tags ?? [],
    config: r.config ?? {},
    summary: r.summary ?? {},
  };
}

function normDoc(d: RunDoc): RunDoc {
  return {
    ...d,
    name: d.name ?? "",
    sweep: d.sweep ?? "",
    tags: d.tags ?? [],
    notes: d.notes ?? "",
    args: d.args ?? [],
    config: d.config ?? {},
    summary: d.summary ?? {},
    metrics: d.metrics ?? [],
    warnings: d.warnings ?? [],
    files: d.files ?? [],
    history_keys: d.history_keys ?? [],
    system_keys: d.system_keys ?? [],
    console_lines: d.console_lines ?? 0,
    dropped_steps: d.dropped_steps ?? 0,
  };
}

function normArtifact(a: Artifact): Artifact {
  return {
    ...a,
    aliases: a.aliases ?? [],
    files: a.files ?? [],
    role: a.role ?? "",
    logged_by: a.logged_by ?? [],
    used_by: a.used_by ?? [],
  };
}

function normModel(m: Model): Model {
  return {
    ...m,
    versions: (m.versions ?? []).map((v) => ({
      ...v,
      aliases: v.aliases ?? [],
      user: v.user ?? "",
      reason: v.reason ?? "",
      source_run: v.source_run ?? "",
      transitions: v.transitions ?? [],
    })),
  };
}

function normLineage(l: Lineage): Lineage {
  return {
    target: l.target ?? "",
    stages: (l.stages ?? []).map((s) => ({
      ...s,
      metrics: s.metrics ?? {},
      hyperparameters: s.hyperparameters ?? {},
    })),
  };
}

const finite = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

function normSweep(w: Sweep): Sweep {
  return {
    ...w,
    name: w.name ?? "",
    metric: w.metric ?? null,
    parameters: w.parameters ?? [],
    grid_size: w.grid_size ?? null,
    run_cap: w.run_cap ?? null,
    early_terminate: w.early_terminate ?? null,
    best: w.best && finite(w.best.value) !== null ? w.best : null,
    runs: (w.runs ?? []).map((r) => ({
      ...r,
      name: r.name ?? "",
      params: r.params ?? {},
      flat_params: r.flat_params ?? {},
      metric: finite(r.metric),
      best: finite(r.best),
      iterations: r.iterations ?? 0,
      stopped: !!r.stopped,
      stop_reason: r.stop_reason ?? null,
      agent: r.agent ?? "",
    })),
  };
}

export const api = {
  projects: (signal?: AbortSignal) =>
    request<{ projects: Project[] }>("/api/v1/projects", {}, signal).then((r) => r.projects),

  runs: (project: string, signal?: AbortSignal) =>
    request<{ runs: RunRow[] }>(`/api/v1/runs?project=${enc(project)}`, {}, signal).then((r) => r.runs.map(normRow)),

  run: (id: string, signal?: AbortSignal) => request<RunDoc>(`/api/v1/runs/${enc(id)}`, {}, signal).then(normDoc),

  patchRun: (id: string, body: Partial<Pick<RunDoc, "name" | "notes" | "tags" | "group" | "job_type">>) =>
    request<RunDoc>(`/api/v1/runs/${enc(id)}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }).then(normDoc),

  history: (id: string, keys: string[], opt: HistoryOptions = {}, signal?: AbortSignal) => {
    const q = keys.map((k) => `key=${enc(k)}`);
    if (opt.minStep !== undefined) q.push(`min_step=${Math.floor(opt.minStep)}`);
    if (opt.maxStep !== undefined) q.push(`max_step=${Math.ceil(opt.maxStep)}`);
    if (opt.maxPoints !== undefined) q.push(`max_points=${opt.maxPoints}`);
    if (opt.x) q.push(`x=${enc(opt.x)}`);
    return request<{ series: Series[] }>(`/api/v1/runs/${enc(id)}/history?${q.join("&")}`, {}, signal).then(
      (r) => r.series,
    );
  },

  console: (id: string, offset: number, limit: number, signal?: AbortSignal) =>
    request<{ lines: ConsoleLine[]; total: number }>(
      `/api/v1/runs/${enc(id)}/console?offset=${offset}&limit=${limit}`,
      {},
      signal,
    ),

  compare: (ids: string[], signal?: AbortSignal) =>
    request<CompareJson>(`/api/v1/compare?${ids.map((i) => `run=${enc(i)}`).join("&")}`, {}, signal),

  /** The latest version of each artifact of `project`, or every version of `name` (v0 first). */
  artifacts: (project: string, opt: { name?: string; type?: string } = {}, signal?: AbortSignal) => {
    let q = `project=${enc(project)}`;
    if (opt.name) q += `&name=${enc(opt.name)}`;
    if (opt.type) q += `&type=${enc(opt.type)}`;
    return request<{ versions: Artifact[] }>(`/api/v1/artifacts?${q}`, {}, signal).then((r) =>
      (r.versions ?? []).map(normArtifact),
    );
  },

  runArtifacts: (id: string, signal?: AbortSignal) =>
    request<RunArtifacts>(`/api/v1/runs/${enc(id)}/artifacts`, {}, signal).then((r) => ({
      logged: (r.logged ?? []).map(normArtifact),
      used: (r.used ?? []).map((u) => ({ artifact: normArtifact(u.artifact), role: u.role ?? "" })),
    })),

  models: (signal?: AbortSignal) =>
    request<{ models: Model[] }>("/api/v1/models", {}, signal).then((r) => (r.models ?? []).map(normModel)),

  model: (name: string, signal?: AbortSignal) =>
    request<Model>(`/api/v1/models/${enc(name)}`, {}, signal).then(normModel),

  /** Sweeps, newest first; every project's when `project` is null. */
  sweeps: (project: string | null, signal?: AbortSignal) =>
    request<{ sweeps: Sweep[] }>(project === null ? "/api/v1/sweeps" : `/api/v1/sweeps?project=${enc(project)}`, {}, signal).then(
      (r) => (r.sweeps ?? []).map(normSweep),
    ),

  sweep: (id: string, signal?: AbortSignal) => request<Sweep>(`/api/v1/sweeps/${enc(id)}`, {}, signal).then(normSweep),

  /** Pauses, resumes, finishes or cancels a sweep; the sweep after the change (`400` with the reason when not allowed). */
  setSweepState: (id: string, state: SweepAction) =>
    request<Sweep>(`/api/v1/sweeps/${enc(id)}/state`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ state }),
    }).then(normSweep),

  lineage: (target: string, signal?: AbortSignal) =>
    request<Lineage>(`/api/v1/lineage?target=${enc(target)}`, {}, signal).then(normLineage),

  /** A stored run file's text (media tables, plotly figures). */
  fileText: (id: string, path: string, signal?: AbortSignal) =>
    send(fileUrl(id, path), {}, signal).then((r) => r.text()),
};

/** The URL of a file stored with a run (`GET /api/v1/runs/{id}/files/{path…}`), each segment encoded. */
export function fileUrl(id: string, path: string): string {
  return `/api/v1/runs/${enc(id)}/files/${path.split("/").map(enc).join("/")}`;
}

export interface HistoryOptions {
  minStep?: number;
  maxStep?: number;
  maxPoints?: number;
  x?: string;
}

/** A JSON value as a plottable number: NaN/±inf strings become numbers, anything else null. */
export function num(v: Json | undefined): number | null {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return null;
}

export interface EventHandlers {
  run?: (row: RunRow) => void;
  removed?: (id: string) => void;
  /** Called on every (re)connect after the first: events may have been missed. */
  reconnect?: () => void;
}

/** Subscribes to `/api/v1/events`; returns a function that closes the stream. */
export function subscribe(project: string | null, h: EventHandlers): () => void {
  const url = project === null ? "/api/v1/events" : `/api/v1/events?project=${enc(project)}`;
  const es = new EventSource(url);
  let hellos = 0;
  const dot = document.getElementById("live");
  es.addEventListener("hello", (e) => {
    hellos++;
    dot?.classList.add("on");
    try {
      const v = (JSON.parse((e as MessageEvent<string>).data) as { version?: string }).version;
      if (dot && v) dot.title = `live updates (daemon ${v})`;
    } catch {
      /* ignore */
    }
    if (hellos > 1) h.reconnect?.();
  });
  es.addEventListener("run", (e) => {
    try {
      h.run?.(normRow(JSON.parse((e as MessageEvent<string>).data) as RunRow));
    } catch (err) {
      console.error("bad run event", err);
    }
  });
  es.addEventListener("removed", (e) => {
    try {
      h.removed?.((JSON.parse((e as MessageEvent<string>).data) as { id: string }).id);
    } catch (err) {
      console.error("bad removed event", err);
    }
  });
  es.onerror = () => dot?.classList.remove("on");
  return () => {
    es.close();
    dot?.classList.remove("on");
  };
}
