// list.js: an ordered list of objects in the form, as Node-RED's editableList (a
// switch's or a change node's rules): add, remove and reorder rows (drag the handle, the
// arrow buttons, or Alt+Up/Down in a row). Each row remembers which item it was when
// the form opened, so a list whose items are the node's output ports (`x-port-per-item`)
// can take each port's wires along.

import { h, clone } from './util.js';
import { check, isObject } from './schema.js';
import { showByCondition } from './shown.js';

/**
 * A list field {el, read(), origins()} at `pointer`. buildRow(value, pointer, memory)
 * makes a row's body {el, read()}; `memory` is the row's own ({initial}, kept across
 * moves). changed() is called after every add, remove or move.
 */
export function listField(schema, pointer, value, { buildRow, changed }) {
  const perPort = schema['x-port-per-item'] === true;
  const max = schema.maxItems ?? Infinity;
  const rows = h('ol', { class: 'list-rows' });
  const add = h('button', { type: 'button', class: 'small', 'data-testid': `list-add-${pointer}` }, '+ add');
  const el = h('div', { class: 'list', 'data-field': pointer }, rows, add);
  const items = (Array.isArray(value) ? value : []).map((v, i) => ({ value: v, origin: i, memory: { initial: v } }));

  function render(focusIndex = -1, focusWhat = '') {
    const built = items.map((item, i) => {
      const where = `${pointer}/${i}`;
      const body = buildRow(item.value, where, item.memory);
      const handle = h('span', { class: 'list-handle', 'data-testid': 'list-handle', title: 'Drag to reorder (or Alt+Up/Down)', 'aria-hidden': 'true' }, '\u2261');
      const up = h('button', { type: 'button', class: 'icon-button', 'data-testid': 'list-up', title: 'Move up', 'aria-label': `move item ${i + 1} up`, disabled: i === 0 }, '\u2191');
      const down = h('button', { type: 'button', class: 'icon-button', 'data-testid': 'list-down', title: 'Move down', 'aria-label': `move item ${i + 1} down`, disabled: i === items.length - 1 }, '\u2193');
      const remove = h('button', { type: 'button', class: 'icon-button', 'data-testid': 'list-remove', title: 'Remove', 'aria-label': `remove item ${i + 1}` }, '\u00d7');
      const li = h('li', { class: 'list-row', 'data-row': where },
        h('div', { class: 'list-side' }, handle, perPort ? h('span', { class: 'list-port', 'data-testid': 'list-port', title: `output ${i + 1}` }, `\u2192 ${i + 1}`) : null),
        h('div', { class: 'list-body' }, body.el),
        h('div', { class: 'list-buttons' }, up, down, remove));
      up.addEventListener('click', () => move(i, i - 1, 'up'));
      down.addEventListener('click', () => move(i, i + 1, 'down'));
      remove.addEventListener('click', () => { snapshot(); items.splice(i, 1); render(Math.min(i, items.length - 1), 'remove'); changed(); });
      li.addEventListener('keydown', (e) => {
        if (!e.altKey || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return;
        e.preventDefault();
        move(i, e.key === 'ArrowUp' ? i - 1 : i + 1, '');
      });
      handle.addEventListener('pointerdown', (e) => startDrag(e, li, i));
      return { li, body };
    });
    rows.replaceChildren(...built.map((b) => b.li));
    items.forEach((item, i) => { item.body = built[i].body; });
    add.disabled = items.length >= max;
    if (!items.length && focusWhat === 'remove') add.focus(); // the last row is gone
    if (focusIndex >= 0 && built[focusIndex]) {
      const target = built[focusIndex].li.querySelector(focusWhat ? `[data-testid="list-${focusWhat}"]:not(:disabled)` : 'select, input, textarea');
      (target || built[focusIndex].li.querySelector('select, input, textarea') || add).focus();
    }
  }

  /** Take the rows' values from their controls before they are built again. */
  function snapshot() { for (const item of items) if (item.body) item.value = item.body.read().value; }

  function move(from, to, focusWhat) {
    if (to < 0 || to >= items.length) return;
    snapshot();
    const [item] = items.splice(from, 1);
    items.splice(to, 0, item);
    render(to, focusWhat);
    changed();
  }

  function startDrag(e, li, from) {
    if (e.button !== 0) return;
    e.preventDefault();
    li.classList.add('dragging');
    let to = from;
    const over = (ev) => {
      const others = [...rows.children].filter((row) => row !== li);
      to = others.filter((row) => { const r = row.getBoundingClientRect(); return r.top + r.height / 2 < ev.clientY; }).length;
      others.forEach((row, i) => row.classList.toggle('drop-before', i === to && to !== from));
      rows.classList.toggle('drop-last', to === others.length && to !== from);
    };
    const up = () => {
      window.removeEventListener('pointermove', over);
      window.removeEventListener('pointerup', up);
      li.classList.remove('dragging');
      rows.classList.remove('drop-last');
      for (const row of rows.children) row.classList.remove('drop-before');
      if (to !== from) move(from, to, '');
    };
    window.addEventListener('pointermove', over);
    window.addEventListener('pointerup', up);
  }

  add.addEventListener('click', () => {
    snapshot();
    items.push({ value: newItem(schema.items), origin: null, memory: { initial: undefined } });
    render(items.length - 1, '');
    changed();
  });
  render();

  return {
    el,
    read() { return { value: items.map((item) => item.body.read().value) }; },
    /** For each row, the index it had when the form opened (null: added since). */
    origins() { return items.map((item) => item.origin); },
  };
}

/** A row added to a list: the first choice of each required choice (an operator). */
function newItem(sub) {
  const item = {};
  for (const key of sub.required || []) {
    const p = (sub.properties || {})[key];
    if (p && Array.isArray(p.enum)) item[key] = clone(p.enum[0]);
  }
  return item;
}

/**
 * One row of a list {el, read()}: the item schema's fields (fieldsOf(sub, pointer, obj),
 * the form's), each shown while the row fits its `x-show-if` (shown.js). A shown field
 * the row requires is written even when left at its default: the runtime fills no
 * defaults inside a list.
 */
export function itemField(sub, pointer, value, memory, fieldsOf) {
  const requiredIn = (key, v) => (sub.required || []).includes(key) || [sub, ...(sub.allOf || [])].some((part) =>
    isObject(part.if) && isObject(part.then) && (part.then.required || []).includes(key) && !check(part.if, v).length);
  const children = fieldsOf(sub, pointer, isObject(value) ? value : {});
  const el = h('div', { class: 'list-item' }, children.map(([, c]) => c.el),
    h('div', { class: 'field-error', 'data-error-for': pointer, role: 'alert', hidden: true }));
  const read = showByCondition(sub, children, memory.initial, el);
  return { el, read: () => ({ value: read((key, c, all) => (requiredIn(key, all) ? c.raw() : c.read())) }) };
}
