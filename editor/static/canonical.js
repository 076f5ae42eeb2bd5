// canonical.js: a flow file's canonical text, byte for byte what runtime/canonical.py
// writes (tests/editor/test_round_trip.py runs both over every shipped flow): 2-space
// indent, node keys in the order id, type, name, disabled, config, wires, x, y, config keys
// sorted, integer positions, short lists on one line, a final newline. Numbers are
// JSON.stringify's; the Python side writes them the same way, so 1.0 is 1 in both.

const NODE_KEY_ORDER = ['id', 'type', 'name', 'disabled', 'config', 'wires', 'x', 'y'];
const HEAD_KEYS = ['version', 'name', 'context'];

/** The canonical text of a flow document (or of {version, nodes} for an export). */
export function canonicalText(document) {
  return `${dump(canonicalDocument(document), '')}\n`;
}

function canonicalDocument(document) {
  const out = {};
  for (const key of HEAD_KEYS) if (key in document) out[key] = document[key];
  out.nodes = (document.nodes || []).map((node) => (isObject(node) ? canonicalNode(node) : node));
  for (const [key, value] of Object.entries(document)) {
    if (!HEAD_KEYS.includes(key) && key !== 'nodes') out[key] = value;
  }
  return out;
}

function canonicalNode(node) {
  const out = {};
  for (const key of NODE_KEY_ORDER) {
    if (!(key in node)) continue;
    let value = node[key];
    if (key === 'config') value = sortedKeys(value);
    else if ((key === 'x' || key === 'y') && typeof value === 'number' && Number.isFinite(value)) value = roundHalfEven(value);
    out[key] = value;
  }
  for (const [key, value] of Object.entries(node)) if (!(key in out)) out[key] = value;
  return out;
}

/** Python's round(): halves go to the even neighbour (20.5 -> 20, 21.5 -> 22). */
function roundHalfEven(value) {
  const floor = Math.floor(value);
  const rest = value - floor;
  if (rest !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

function sortedKeys(value) {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (!isObject(value)) return value;
  const out = {};
  for (const key of Object.keys(value).sort(byCodePoint)) out[key] = sortedKeys(value[key]);
  return out;
}

/** Python sorts strings by code point; JavaScript's sort() by UTF-16 unit. */
function byCodePoint(a, b) {
  const left = Array.from(a, (c) => c.codePointAt(0));
  const right = Array.from(b, (c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(left.length, right.length); i += 1) {
    if (left[i] !== right[i]) return left[i] - right[i];
  }
  return left.length - right.length;
}

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const isContainer = (value) => value !== null && typeof value === 'object';

/** Lists of scalars (or of lists of scalars, like wires) stay on one line. */
function isFlat(list) {
  return list.every((item) => !isContainer(item) || (Array.isArray(item) && !item.some(isContainer)));
}

function dump(value, indent) {
  const inner = `${indent}  `;
  if (isObject(value)) {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    if (!entries.length) return '{}';
    const items = entries.map(([key, item]) => `${inner}${JSON.stringify(key)}: ${dump(item, inner)}`);
    return `{\n${items.join(',\n')}\n${indent}}`;
  }
  if (Array.isArray(value)) {
    if (isFlat(value)) return inline(value);
    return `[\n${value.map((item) => inner + dump(item, inner)).join(',\n')}\n${indent}]`;
  }
  return JSON.stringify(value) ?? 'null';
}

function inline(list) {
  return `[${list.map((item) => (Array.isArray(item) ? inline(item) : JSON.stringify(item) ?? 'null')).join(', ')}]`;
}
