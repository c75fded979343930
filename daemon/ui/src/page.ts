// The life of one page view: cancelled fetches, closed streams and destroyed
// charts on navigation, the `data-ready` flag, errors and breadcrumbs.

import { AuthError } from "./api";
import { esc } from "./format";

export class Page {
  alive = true;
  private readonly ctrl = new AbortController();
  private readonly cleanups: (() => void)[] = [];

  constructor(readonly root: HTMLElement) {}

  get signal(): AbortSignal {
    return this.ctrl.signal;
  }

  /** Runs `f` when the page goes away. */
  onDispose(f: () => void): void {
    this.cleanups.push(f);
  }

  dispose(): void {
    this.alive = false;
    this.ctrl.abort();
    for (const f of this.cleanups.splice(0)) {
      try {
        f();
      } catch (e) {
        console.error(e);
      }
    }
  }

  /** Marks the first data as rendered (`document.body.dataset.ready = "1"`). */
  ready(): void {
    if (this.alive) document.body.dataset.ready = "1";
  }

  /** Shows an error in place of the page (a hint to log in for 401). */
  fail(err: unknown): void {
    if (!this.alive || isAbort(err)) return;
    console.error(err);
    showError(this.root, err);
    this.ready();
  }
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === "AbortError";
}

export function showError(root: HTMLElement, err: unknown): void {
  if (err instanceof AuthError) {
    root.innerHTML = `<div class="message error" data-testid="auth-error">
      <h2>Not signed in</h2>
      <p>Open the URL that <code>tracklab ui</code> prints: it carries the token that lets this browser in.</p>
    </div>`;
    return;
  }
  const msg = err instanceof Error ? err.message : String(err);
  root.innerHTML = `<div class="message error" data-testid="error"><h2>Something went wrong</h2><p>${esc(msg)}</p></div>`;
}

/** A small non-fatal notice at the top of an element. */
export function notice(el: HTMLElement, err: unknown): void {
  if (isAbort(err)) return;
  console.error(err);
  const div = document.createElement("div");
  div.className = "message warn";
  div.textContent = err instanceof Error ? err.message : String(err);
  el.prepend(div);
}

/** Sets the breadcrumbs in the top bar: `[label, href?]` pairs. */
export function setCrumbs(items: [string, string?][]): void {
  const nav = document.getElementById("crumbs");
  if (!nav) return;
  nav.innerHTML = items
    .map(([label, href]) => (href ? `<a href="${esc(href)}">${esc(label)}</a>` : `<span>${esc(label)}</span>`))
    .join('<span class="sep">/</span>');
}

/** `document.createElement` with a class and inner HTML. */
export function h(tag: string, cls = "", html = ""): HTMLElement {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (html) el.innerHTML = html;
  return el;
}

/** Runs `f` at most once per `ms`, the last call winning (trailing edge). */
export function throttle(ms: number, f: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let last = 0;
  return () => {
    if (timer) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(() => {
      timer = null;
      last = Date.now();
      f();
    }, wait);
  };
}

/** Runs async jobs with at most `n` in flight. */
export async function pool<T>(n: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await (jobs[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, worker));
  return out;
}
