// util.js: small DOM and data helpers shared by every module.

export const SVGNS = 'http://www.w3.org/2000/svg';
export const MASK = '\u2022\u2022\u2022\u2022\u2022\u2022'; // a secret the API did not send back

function build(node, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'text') node.textContent = value;
    else if (key === 'style') node.style.cssText = value; // CSSOM: the page's CSP refuses style attributes
    else node.setAttribute(key === 'className' ? 'class' : key, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** An HTML element: h('button', {class: 'x', onclick}, 'label'). */
export const h = (tag, attrs, ...children) => build(document.createElement(tag), attrs, children);
/** An SVG element. */
export const s = (tag, attrs, ...children) => build(document.createElementNS(SVGNS, tag), attrs, children);

export function debounce(fn, ms) {
  let timer = 0;
  const call = (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  call.cancel = () => clearTimeout(timer);
  return call;
}

export const clone = (value) => (value === undefined ? undefined : structuredClone(value));

/** JSON with sorted object keys: equal data gives equal text. */
export function stable(value) {
  if (Array.isArray(value)) return '[' + value.map(stable).join(',') + ']';
  if (value && typeof value === 'object') {
    return '{' + Object.keys(value).filter((k) => value[k] !== undefined).sort().map((k) => JSON.stringify(k) + ':' + stable(value[k])).join(',') + '}';
  }
  return JSON.stringify(value) ?? 'null';
}

export const equal = (a, b) => stable(a) === stable(b);

/** True when a key event belongs to a text field (then no shortcut may take it). */
export function isTyping(event) {
  const t = event.target;
  if (!t || !t.tagName) return false;
  return t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName);
}

/** A short message at the top of the page; kind: info | ok | error. */
export function toast(text, kind = 'info', ms = 3500) {
  let box = document.getElementById('toasts');
  if (!box) document.body.append(box = h('div', { id: 'toasts', 'aria-live': 'polite' }));
  const item = h('div', { class: `toast ${kind}`, 'data-testid': 'toast', role: 'status' }, text);
  box.append(item);
  while (box.childElementCount > 3) box.firstElementChild.remove();
  setTimeout(() => item.remove(), ms);
  return item;
}

/** Text with `code` spans, as the schema descriptions use them. */
export function richText(text) {
  const out = document.createDocumentFragment();
  String(text || '').split(/(`[^`]*`)/).forEach((part) => {
    if (part.startsWith('`') && part.endsWith('`') && part.length > 1) out.append(h('code', null, part.slice(1, -1)));
    else if (part) out.append(part);
  });
  return out;
}

export const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
