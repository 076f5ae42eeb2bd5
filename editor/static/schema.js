// schema.js: what the editor needs of JSON Schema: which form control a field gets,
// defaults, the client-side check of a config (so errors show before a round trip),
// and the x-ref fields that point at shared connections.

import { MASK, clone, equal } from './util.js';
import { ERROR_KEYWORD, choiceSentence, closestName, sentence, unknownField, withArticle } from './sentences.js';

const SCALARS = ['string', 'number', 'integer', 'boolean', 'null'];

export const typesOf = (schema) =>
  schema && schema.type ? (Array.isArray(schema.type) ? schema.type : [schema.type]) : [];

export const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

const CODE_KEYWORDS = ['x-python', 'x-python-script', 'x-jsonata'];

/** The form control for a field: ref, typed (a typed value's picker), enum, toggle,
 * multi, string, path (a message property), code, number, boolean, object, list (of
 * objects), choices (a list of some of an enum's values), refs (a list of node ids
 * of one type), map or json (a JSON text area for anything else). */
export function kindOf(schema) {
  if (!isObject(schema)) return 'json';
  if (schema['x-ref']) return 'ref';
  if (Array.isArray(schema['x-typed-value'])) return 'typed';
  if (Array.isArray(schema.enum)) return 'enum';
  const branches = schema.oneOf || schema.anyOf;
  if (Array.isArray(branches)) {
    const objects = branches.filter((b) => b.type === 'object');
    if (branches.length === 2 && objects.length === 1 && branches.some((b) => b.const === false)) return 'toggle';
    if (branches.every((b) => typesOf(b).length && typesOf(b).every((t) => SCALARS.includes(t)))) return 'multi';
    return 'json';
  }
  const types = typesOf(schema);
  const solid = types.filter((t) => t !== 'null');
  if (solid.length === 1) {
    const t = solid[0];
    if (t === 'string') {
      if (schema['x-property-path'] === true) return 'path';
      if (schema['x-widget'] === 'code' || CODE_KEYWORDS.some((k) => schema[k] === true)) return 'code';
      return 'string';
    }
    if (t === 'array' && isObject(schema.items) && typesOf(schema.items).includes('object') && schema.items.properties) return 'list';
    if (t === 'array' && isObject(schema.items) && Array.isArray(schema.items.enum)) return 'choices';
    if (t === 'array' && isObject(schema.items) && typeof schema.items['x-ref'] === 'string') return 'refs';
    if (t === 'number' || t === 'integer') return 'number';
    if (t === 'boolean') return 'boolean';
    if (t === 'object') {
      if (schema.properties) return 'object';
      const extra = schema.additionalProperties;
      if (isObject(extra) && typesOf(extra).length === 1 && SCALARS.includes(typesOf(extra)[0])) return 'map';
    }
    return 'json';
  }
  if (solid.length > 1 && solid.every((t) => SCALARS.includes(t))) return 'multi';
  if (!types.length && schema.properties) return 'object';
  return 'json';
}

/** The object branch of a oneOf/anyOf {const: false} | object field. */
export const objectBranch = (schema) => (schema.oneOf || schema.anyOf || []).find((b) => b.type === 'object');

/** Fill schema defaults into absent properties (in place), as the runtime does. */
export function fillDefaults(schema, value) {
  if (!isObject(value) || !isObject(schema)) return value;
  for (const [key, sub] of Object.entries(schema.properties || {})) {
    if (!(key in value)) {
      if ('default' in sub) value[key] = clone(sub.default);
      continue;
    }
    fillDefaults(sub, value[key]);
    const objects = (sub.oneOf || sub.anyOf || []).filter((b) => b.type === 'object');
    if (objects.length === 1) fillDefaults(objects[0], value[key]);
  }
  return value;
}

function isType(value, type) {
  switch (type) {
    case 'string': return typeof value === 'string';
    case 'number': return typeof value === 'number' && Number.isFinite(value);
    case 'integer': return Number.isInteger(value);
    case 'boolean': return typeof value === 'boolean';
    case 'null': return value === null;
    case 'object': return isObject(value);
    case 'array': return Array.isArray(value);
    default: return true;
  }
}

const regexCache = new Map();
function regex(pattern) {
  if (!regexCache.has(pattern)) {
    let re = null;
    try { re = new RegExp(pattern, 'u'); } catch { try { re = new RegExp(pattern); } catch { re = null; } }
    regexCache.set(pattern, re);
  }
  return regexCache.get(pattern);
}

const jsonType = (value) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);
const LIMIT_HOLDS = { minimum: (v, l) => v >= l, maximum: (v, l) => v <= l,
  exclusiveMinimum: (v, l) => v > l, exclusiveMaximum: (v, l) => v < l };

/** The index of the only object or list branch that takes the value's JSON type. */
function ownBranch(branches, value) {
  const kind = jsonType(value);
  if (kind !== 'object' && kind !== 'array') return null;
  const matching = branches.map((b, i) => (isObject(b) && typesOf(b).includes(kind) ? i : -1)).filter((i) => i >= 0);
  return matching.length === 1 ? matching[0] : null;
}

function add(out, pointer, message) {
  if (!out.some((e) => e.pointer === pointer && e.message === message)) out.push({ pointer, message });
}

/** Check a value against a schema; returns [{pointer, message}] (pointer of the field),
 * in the words of sentences.js, the same as the server's. */
export function check(schema, value, pointer = '', out = []) {
  if (!isObject(schema)) return out;
  if (schema.writeOnly && value === MASK) return out;
  const say = (keyword) => add(out, pointer, sentence(keyword, schema[keyword], schema));
  const types = typesOf(schema);
  // As in JSON Schema, each keyword below applies to the values of its own kind, so a
  // wrong type does not stop the others (1.5 for an integer of at least 1024: both). An
  // enum or const says best what is allowed, so a wrong type is said by it alone.
  const allowed = 'const' in schema || Array.isArray(schema.enum);
  if (!allowed && types.length && !types.some((t) => isType(value, t))) say('type');
  if ('const' in schema && !equal(value, schema.const)) say('const');
  if (Array.isArray(schema.enum) && !schema.enum.some((v) => equal(v, value))) say('enum');
  if (typeof value === 'string') {
    const length = [...value].length; // code points, as JSON Schema (and Python) count
    if (schema.minLength !== undefined && length < schema.minLength) say('minLength');
    if (schema.maxLength !== undefined && length > schema.maxLength) say('maxLength');
    const re = schema.pattern && regex(schema.pattern);
    if (re && !re.test(value)) say('pattern');
  }
  if (typeof value === 'number') {
    for (const [keyword, holds] of Object.entries(LIMIT_HOLDS)) {
      if (schema[keyword] !== undefined && !holds(value, schema[keyword])) say(keyword);
    }
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) say('minItems');
    if (schema.maxItems !== undefined && value.length > schema.maxItems) say('maxItems');
    if (isObject(schema.items)) value.forEach((item, i) => check(schema.items, item, `${pointer}/${i}`, out));
  }
  if (isObject(value)) {
    const size = Object.keys(value).length;
    if (schema.minProperties !== undefined && size < schema.minProperties) say('minProperties');
    if (schema.maxProperties !== undefined && size > schema.maxProperties) say('maxProperties');
    for (const key of schema.required || []) {
      if (!Object.hasOwn(value, key)) add(out, `${pointer}/${key}`, 'required field is missing');
    }
    const props = schema.properties || {};
    for (const [key, item] of Object.entries(value)) {
      if (Object.hasOwn(props, key)) check(props[key], item, `${pointer}/${key}`, out);
      else if (schema.additionalProperties === false) add(out, `${pointer}/${key}`, unknownField(key, Object.keys(props)));
      else if (isObject(schema.additionalProperties)) check(schema.additionalProperties, item, `${pointer}/${key}`, out);
    }
    if (schema.if) {
      const branch = check(schema.if, value, pointer, []).length === 0 ? schema.then : schema.else;
      if (branch) check(branch, value, pointer, out);
    }
  }
  const branches = schema.oneOf || schema.anyOf;
  if (Array.isArray(branches)) {
    const results = branches.map((b) => check(b, value, pointer, []));
    const fits = results.filter((r) => r.length === 0).length;
    if (schema.oneOf ? fits !== 1 : fits === 0) {
      // Inside the one object or list branch of the value's own type, say what is wrong
      // there; otherwise say what the choices are (or the schema's x-error).
      const own = fits === 0 && typeof schema[ERROR_KEYWORD] !== 'string' ? ownBranch(branches, value) : null;
      if (own !== null) results[own].forEach((e) => add(out, e.pointer, e.message));
      else add(out, pointer, choiceSentence(schema, branches));
    }
  }
  for (const part of schema.allOf || []) check(part, value, pointer, out);
  return out;
}

/** [{pointer, type, id, holder, key}] for every x-ref field set in a config, as the runtime finds them. */
export function references(schema, config, pointer = '', out = []) {
  if (!isObject(config) || !isObject(schema)) return out;
  for (const [key, sub] of Object.entries(schema.properties || {})) {
    if (!(key in config)) continue;
    if (sub['x-ref'] && typeof config[key] === 'string' && config[key]) {
      out.push({ pointer: `${pointer}/${key}`, type: sub['x-ref'], id: config[key], holder: config, key });
    } else {
      references(sub, config[key], `${pointer}/${key}`, out);
      const object = objectBranch(sub);
      if (object) references(object, config[key], `${pointer}/${key}`, out);
    }
  }
  return out;
}

/** The x-ref fields of a schema (top level): [{key, type}]. */
export const refFields = (schema) => Object.entries((schema && schema.properties) || {})
  .filter(([, sub]) => sub['x-ref']).map(([key, sub]) => ({ key, type: sub['x-ref'] }));

/** [{pointer, holder, key}] of every writeOnly (secret) field set in a config, at any
 * depth: the same walk as editor/masking.py secret_fields (tests/editor/test_masking.py
 * runs both over the same cases). A field secret in any branch counts as secret. */
export function secretFields(schema, value, pointer = '', found = new Map()) {
  if (!isObject(schema)) return [...found.values()];
  const branches = [...(schema.allOf || []), ...(schema.anyOf || []), ...(schema.oneOf || []), schema.then, schema.else];
  for (const branch of branches) secretFields(branch, value, pointer, found);
  let children = [];
  if (isObject(value)) {
    const props = schema.properties || {};
    children = Object.keys(value).map((key) => [key, Object.hasOwn(props, key) ? props[key] : schema.additionalProperties]);
  } else if (Array.isArray(value)) {
    const prefix = schema.prefixItems || [];
    children = value.map((_, i) => [i, i < prefix.length ? prefix[i] : schema.items]);
  }
  for (const [key, sub] of children) {
    if (!isObject(sub)) continue;
    const where = `${pointer}/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`;
    if (sub.writeOnly) {
      if (value[key] !== '' && value[key] !== null && value[key] !== undefined) found.set(where, { pointer: where, holder: value, key });
    } else secretFields(sub, value[key], where, found);
  }
  return [...found.values()];
}

/** Client-side problems of one node: [{pointer, message}]. */
export function checkNode(node, model) {
  const type = model.type(node.type);
  if (!type) {
    const hint = closestName(node.type, [...model.types.keys()]);
    return [{ pointer: '/type', message: `unknown node type '${node.type}'${hint ? `; did you mean '${hint}'?` : ''}` }];
  }
  const config = fillDefaults(type.schema, clone(isObject(node.config) ? node.config : {}));
  const errors = check(type.schema, config, '/config');
  for (const ref of references(type.schema, config, '/config')) {
    const target = model.connection(ref.id);
    if (!target) errors.push({ pointer: ref.pointer, message: `refers to missing ${ref.type} '${ref.id}'` });
    else if (target.type !== ref.type) errors.push({ pointer: ref.pointer, message: `refers to '${ref.id}', ${withArticle(target.type)}, but must refer to ${withArticle(ref.type)}` });
  }
  const wires = node.wires || [];
  // A count that follows the config is the server's to tell (its validation says it).
  if (!type.outputs_from_config && wires.length > type.outputs) {
    errors.push({ pointer: `/wires/${type.outputs}`, message: `output port ${type.outputs} does not exist: ${type.type} has ${type.outputs} output(s)` });
  }
  wires.forEach((targets, port) => {
    (targets || []).forEach((id, i) => {
      const target = model.get(id);
      const targetType = target && model.type(target.type);
      if (!target) errors.push({ pointer: `/wires/${port}/${i}`, message: `wire to missing node '${id}'` });
      else if (targetType && targetType.inputs === 0) errors.push({ pointer: `/wires/${port}/${i}`, message: `wire to node '${id}', but ${targetType.type} has no input` });
    });
  });
  return errors;
}
