// refs.js: a list of node ids of one type (`"items": {"x-ref": TYPE}`, a link-out's
// link-ins): a checkbox per node of that type on the canvas, by name and id. An id the
// list holds that is not on this tab (a link-in of another tab, or one since deleted)
// stays listed and checked, so the form keeps what it cannot show; the check says
// whether it exists.

import { h } from './util.js';

/** The field {el, read()} at `pointer`: the checked ids, those it held first in their
 * order, then those checked since in the canvas's order. */
export function refsField(sub, pointer, value, env, model) {
  const wanted = sub.items['x-ref'];
  const held = Array.isArray(value) ? value : [];
  const here = model.sharedOfType(wanted)
    .sort((a, b) => (a.name || a.id).localeCompare(b.name || b.id) || a.id.localeCompare(b.id));
  const options = [
    ...here.map((n) => ({ id: n.id, label: n.name ? `${n.name} (${n.id})` : n.id })),
    ...held.filter((id) => !model.has(id)).map((id) => ({ id, label: `${id} (not on this tab)` })),
  ];
  const boxes = options.map((o) => h('input', { type: 'checkbox', id: env.uid(), 'data-choice': o.id, checked: held.includes(o.id) }));
  const el = h('div', { class: 'choices refs', 'data-field': pointer, 'data-ref': wanted, role: 'group' },
    options.length ? options.map((o, i) => h('label', { class: 'check-line', for: boxes[i].id }, boxes[i], o.label))
      : h('span', { class: 'muted' }, `No ${wanted} node on this tab.`));
  const read = () => {
    const checked = options.filter((_, i) => boxes[i].checked).map((o) => o.id);
    return { value: [...held.filter((id) => checked.includes(id)), ...checked.filter((id) => !held.includes(id))] };
  };
  return { el, read };
}
