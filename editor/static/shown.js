// shown.js: the fields of an object in the form that show only while the object fits
// their `x-show-if` schema (a switch rule's second value for `between`, an inject
// node's interval for an interval repeat). A hidden field is left out of the config,
// unless it was hidden and set already when the form opened (the form keeps what it
// did not change).

import { clone } from './util.js';
import { check, fillDefaults, isObject } from './schema.js';

/**
 * Show and hide `children` ([key, controller], with `raw()`: what each shows) as
 * `container`'s fields change. `initial` is the object when the form opened (as
 * written: absent fields are taken at their defaults). Returns
 * read(readField): the object's value, each shown field by readField(key, controller,
 * all), where `all` holds every field's shown value.
 */
export function showByCondition(sub, children, initial, container) {
  const props = sub.properties || {};
  const start = isObject(initial) ? initial : {};
  const shownIn = (key, v) => !isObject(props[key]) || !props[key]['x-show-if'] || !check(props[key]['x-show-if'], v).length;
  const asShown = fillDefaults(sub, clone(start)); // an absent field shows its default
  const hiddenAtStart = new Set(Object.keys(props).filter((key) => !shownIn(key, asShown)));
  if (!children.some(([key]) => isObject(props[key]) && props[key]['x-show-if'])) {
    return (readField) => collect(children, readField, values(children));
  }
  const update = () => { const all = values(children); for (const [key, c] of children) c.el.hidden = !shownIn(key, all); };
  container.addEventListener('input', update);
  container.addEventListener('change', update);
  update();
  return (readField) => {
    const all = values(children);
    const shown = children.filter(([key]) => shownIn(key, all));
    const out = collect(shown, readField, all);
    for (const [key] of children) {
      if (!shownIn(key, all) && hiddenAtStart.has(key) && key in start) out[key] = clone(start[key]);
    }
    return out;
  };
}

function values(children) {
  const all = {};
  for (const [key, c] of children) { const r = c.raw(); if (r.value !== undefined) all[key] = r.value; }
  return all;
}

function collect(children, readField, all) {
  const out = {};
  for (const [key, c] of children) { const r = readField(key, c, all); if (r.value !== undefined) out[key] = r.value; }
  return out;
}
