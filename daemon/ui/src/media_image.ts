// Image panels: `image-file` (one image) and `images/separated` (a row of
// images), from the run's stored files, caption under each.

import { fileUrl, type Json } from "./api";
import { el, mediaNote, str, type MediaValue } from "./media";

/** Images narrower than this are scaled up by a whole factor, pixels kept sharp. */
const MIN_SHOWN = 128;

function image(runId: string, path: string, caption: string, w: number | null, h: number | null): HTMLElement {
  const img = el("img", {
    class: "media-img",
    "data-testid": "media-image",
    src: fileUrl(runId, path),
    alt: caption || path,
    title: path,
  });
  const size = (w: number, h: number) => {
    const k = w < MIN_SHOWN ? Math.ceil(MIN_SHOWN / w) : 1;
    img.width = w * k;
    img.height = h * k;
    if (k > 1) img.classList.add("pixelated");
  };
  // The size logged, else the size the file turns out to have.
  if (w && h && w > 0 && h > 0) size(w, h);
  else img.addEventListener("load", () => img.naturalWidth > 0 && size(img.naturalWidth, img.naturalHeight), { once: true });
  const fig = el("figure", { class: "media-figure" }, img);
  if (caption) fig.append(el("figcaption", { text: caption }));
  img.addEventListener(
    "error",
    () => {
      img.hidden = true;
      fig.append(mediaNote(`could not load ${path}`, "media-note error"));
    },
    { once: true },
  );
  return fig;
}

const numOrNull = (v: Json | undefined) => (typeof v === "number" ? v : null);

export function renderImage(body: HTMLElement, v: MediaValue, runId: string): void {
  const path = str(v.path);
  if (!path) {
    body.append(mediaNote("this image has no file"));
    return;
  }
  body.append(image(runId, path, str(v.caption), numOrNull(v.width), numOrNull(v.height)));
}

export function renderImages(body: HTMLElement, v: MediaValue, runId: string): void {
  const files = Array.isArray(v.filenames) ? v.filenames : [];
  const captions = Array.isArray(v.captions) ? v.captions : [];
  const row = el("div", { class: "media-images" });
  files.forEach((f, i) => {
    // `width`/`height` are the first image's; the others size themselves.
    const w = i === 0 ? numOrNull(v.width) : null;
    const h = i === 0 ? numOrNull(v.height) : null;
    if (typeof f === "string") row.append(image(runId, f, str(captions[i]), w, h));
  });
  body.append(files.length ? row : mediaNote("no images"));
}
