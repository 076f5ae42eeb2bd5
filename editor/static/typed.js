// typed.js: the property pickers of the form, as Node-RED's TypedInput: a typed value
// (`x-typed-value`: a kind selector, msg. flow. global. env string number ..., beside a
// value input chosen by the kind's own value schema) and a message property path
// (`x-property-path`: the path after a fixed "msg."). What a value must be is the
// schema's to say: a read hands back what was typed and the check names what is wrong.

import { h } from './util.js';
import { isObject, typesOf } from './schema.js';

const LABELS = {
  msg: 'msg.', flow: 'flow.', global: 'global.', env: 'env', string: 'string', number: 'number',
  boolean: 'boolean', json: 'JSON', timestamp: 'timestamp', jsonata: 'JSONata', previous: 'previous value',
};
const TITLES = {
  msg: 'a message property', flow: 'a flow context key', global: 'a global context key', env: 'an environment variable',
  string: 'a text', number: 'a number', boolean: 'true or false', json: 'a JSON value', timestamp: 'the time now',
  jsonata: 'a JSONata expression on the message', previous: "the property's value in the message before",
};
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** The schema of a typed value's `value` for one kind (from the schema's allOf), or
 * null for a kind that takes no value (a switch rule's `previous`). */
export function valueSchema(schema, kind) {
  for (const part of schema.allOf || []) {
    const wanted = part.if && part.if.properties && part.if.properties.kind;
    if (wanted && wanted.const === kind) return (part.then && part.then.properties && part.then.properties.value) || {};
  }
  return null;
}

/** The value control a kind's value schema calls for: select (enum, boolean), json,
 * number, expression or text. */
function controlOf(sub) {
  if (sub === null) return 'none';
  if (Array.isArray(sub.enum)) return 'enum';
  const types = typesOf(sub);
  if (types.includes('boolean')) return 'boolean';
  if (types.includes('number') || types.includes('integer')) return 'number';
  if (!types.length && !sub['x-jsonata']) return 'json';
  return sub['x-jsonata'] ? 'expression' : 'text';
}

/** Whether the picker can show `value` (else the form shows it as JSON, as written). */
export const showsTyped = (schema, value) => isObject(value) && schema['x-typed-value'].includes(value.kind);

/**
 * A typed value field {el, read()} at `pointer`: `pointer/kind` is the selector,
 * `pointer/value` the value's control. env: {uid, bad: Map(pointer -> sentence)}.
 */
export function typedField(schema, pointer, value, env) {
  const kinds = schema['x-typed-value'];
  const start = isObject(value) && kinds.includes(value.kind) ? value : { kind: kinds[0] };
  const select = h('select', { id: env.uid(), class: 'typed-kind', 'data-field': `${pointer}/kind`, 'aria-label': 'kind' },
    kinds.map((k) => h('option', { value: k, title: TITLES[k] || k, selected: k === start.kind }, LABELS[k] || k)));
  const slot = h('span', { class: 'typed-value' });
  const el = h('div', { class: 'typed', 'data-field': pointer }, select, slot);
  let control = null;
  const json = controlOf(valueSchema(schema, start.kind)) === 'json';
  const text = !('value' in start) ? '' : json ? JSON.stringify(start.value) : String(start.value);

  function build(kind, initial) {
    const sub = valueSchema(schema, kind);
    const how = controlOf(sub);
    const attrs = { id: env.uid(), 'data-field': `${pointer}/value`, 'aria-label': `${LABELS[kind] || kind} value`, spellcheck: 'false', autocomplete: 'off' };
    if (how === 'none') control = null;
    else if (how === 'enum' || how === 'boolean') {
      const options = how === 'enum' ? sub.enum : [true, false];
      control = h('select', attrs, options.map((v) => h('option', { value: String(v), selected: String(v) === initial }, String(v))));
    } else {
      const mono = how === 'json' || how === 'expression';
      control = h('input', { ...attrs, type: 'text', class: mono ? 'code' : null, value: initial,
        placeholder: how === 'json' ? '{"a": 1}' : how === 'number' ? '0' : kind === 'msg' ? 'payload' : null });
    }
    slot.replaceChildren(...(control ? [control] : []));
    slot.hidden = !control;
    el.dataset.kind = kind;
  }
  build(start.kind, text);
  select.addEventListener('change', () => {
    const keepText = control && control.tagName === 'INPUT' ? control.value : '';
    build(select.value, keepText);
  });

  return {
    el,
    read() {
      const kind = select.value;
      const at = `${pointer}/value`;
      env.bad.delete(at);
      if (!control) return { value: { kind } };
      const raw = control.value;
      const how = controlOf(valueSchema(schema, kind));
      if (how === 'boolean') return { value: { kind, value: raw === 'true' } };
      if (how === 'number' && NUMBER.test(raw.trim())) return { value: { kind, value: Number(raw) } };
      if (how === 'json') {
        try { return { value: { kind, value: JSON.parse(raw) } }; } catch (error) {
          env.bad.set(at, `not valid JSON: ${error.message}`);
          return { value: isObject(value) ? value : { kind } };
        }
      }
      return { value: { kind, value: raw } }; // a number that is none: the check says so
    },
  };
}

/** A message property path field: the path after a fixed "msg.". */
export function pathField(schema, pointer, value, env) {
  const input = h('input', { type: 'text', id: env.uid(), 'data-field': pointer, spellcheck: 'false', autocomplete: 'off',
    value: typeof value === 'string' ? value : '', placeholder: 'payload' });
  const el = h('div', { class: 'typed' }, h('span', { class: 'typed-prefix', title: 'a message property' }, 'msg.'), input);
  return { el, read: () => ({ value: input.value }) };
}
