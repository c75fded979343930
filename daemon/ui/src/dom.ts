// Building DOM and SVG nodes without HTML strings: text always goes in as
// text nodes, attributes through setAttribute (the sweep pages use these).

export type Child = Node | string | number | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | null | undefined>;

function fill<T extends Element>(node: T, attrs: Attrs, children: (Child | Child[])[]): T {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** An HTML element: `el("a", { href, class: "x" }, "text", child)`. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  return fill(document.createElement(tag), attrs, children);
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element (same arguments as `el`). */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): SVGElementTagNameMap[K] {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** `<title>` for an SVG element: the hover text. */
export const svgTitle = (text: string) => svg("title", {}, text);

/** A number rounded for an SVG attribute. */
export const px = (v: number) => Math.round(v * 10) / 10;

/** A state badge (`.badge.st-<state>`) built as nodes. */
export function badge(state: string, testid = ""): HTMLElement {
  const cls = /^[a-z]+$/.test(state) ? `badge st-${state}` : "badge";
  return el("span", { class: cls, "data-testid": testid || null }, state);
}

/** Shortens `s` to `n` characters with an ellipsis. */
export const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
