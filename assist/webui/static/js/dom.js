// Building DOM safely: text always goes in as text nodes, never as HTML.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function params() {
  return new URLSearchParams(window.location.search);
}

/** Split text at spans given in Unicode code points (as the server counts them), not UTF-16 units.
 *  `spans` are `{start, end, ...}`, sorted or not; overlapping ones after the first are skipped.
 *  Returns [{text, span|null}] covering the whole text. */
export function segments(text, spans) {
  const chars = Array.from(text || "");
  const out = [];
  let at = 0;
  for (const s of [...spans].filter((x) => Number.isInteger(x.start) && x.end > x.start).sort((a, b) => a.start - b.start)) {
    if (s.start < at || s.end > chars.length) continue;
    if (s.start > at) out.push({ text: chars.slice(at, s.start).join(""), span: null });
    out.push({ text: chars.slice(s.start, s.end).join(""), span: s });
    at = s.end;
  }
  if (at < chars.length) out.push({ text: chars.slice(at).join(""), span: null });
  return out;
}

export const SVG = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  for (const child of children.flat()) if (child !== undefined && child !== null) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}
