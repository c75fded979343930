// Audio (`audio-file`: an <audio> player), html (`html-file`: a sandboxed
// <iframe>, no scripts, no same-origin; the daemon also serves it with
// `Content-Security-Policy: sandbox`) and any other media type (its JSON,
// and its file as a link).

import { fileUrl } from "./api";
import { fmtDuration, fmtNum } from "./format";
import { el, mediaNote, numOf, str, type MediaValue } from "./media";

export function renderAudio(body: HTMLElement, v: MediaValue, runId: string): void {
  const path = str(v.path);
  if (!path) {
    body.append(mediaNote("this audio has no file"));
    return;
  }
  const facts: string[] = [];
  const d = numOf(v.duration);
  const sr = numOf(v.sample_rate);
  if (d !== null) facts.push(fmtDuration(d));
  if (sr !== null) facts.push(`${fmtNum(sr)} Hz`);
  body.append(
    el("audio", {
      class: "media-audio",
      "data-testid": "media-audio",
      controls: true,
      preload: "metadata",
      src: fileUrl(runId, path),
    }),
  );
  if (str(v.caption)) body.append(el("div", { class: "media-caption", text: str(v.caption) }));
  if (facts.length) body.append(el("div", { class: "muted media-sub", text: facts.join(" · ") }));
}

export function renderHtml(body: HTMLElement, v: MediaValue, runId: string): void {
  const path = str(v.path);
  if (!path) {
    body.append(mediaNote("this page has no file"));
    return;
  }
  const url = fileUrl(runId, path);
  body.append(
    // An empty `sandbox`: no scripts, forms, popups or same-origin access.
    el("iframe", {
      class: "media-html",
      "data-testid": "media-html",
      sandbox: "",
      referrerpolicy: "no-referrer",
      src: url,
      title: path,
    }),
    el("div", { class: "media-sub" }, el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: "open in a tab" })),
  );
}

export function renderOther(body: HTMLElement, v: MediaValue, runId: string): void {
  const path = str(v.path);
  body.append(mediaNote(`The dashboard does not draw ${v._type} values.`));
  if (path) {
    const link = el("a", { href: fileUrl(runId, path), target: "_blank", rel: "noopener noreferrer", text: path });
    body.append(el("div", { class: "media-sub" }, link));
  }
  body.append(
    el("details", { class: "media-json" }, el("summary", { text: "value" }), el("pre", { text: JSON.stringify(v, null, 1) })),
  );
}
