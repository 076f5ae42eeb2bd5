// palette.js: the node types, grouped by category, built from GET /api/nodes (so a
// plugin's type appears with no front-end code). Dragging an entry (pointer events, so
// scripted mouse input drives it too) onto the canvas calls onDrop(type, x, y).

import { h, s, richText } from './util.js';

const icon = (name) => s('svg', { class: 'palette-icon', 'aria-hidden': 'true' },
  s('use', { href: document.getElementById(`icon-${name}`) ? `#icon-${name}` : '#icon-node' }));

// Node-RED's palette groups in its order (editor-client palette.js, coreCategories);
// any other category (a plugin's) comes after them, alphabetically.
const ORDER = ['subflows', 'common', 'function', 'network', 'input', 'output', 'sequence', 'parser', 'storage',
  'analysis', 'social', 'advanced'];

export function buildPalette(host, types, onDrop, canDrop, onEdit) {
  const placeable = types.filter((t) => !t.shared);
  const groups = new Map();
  for (const t of placeable) {
    if (!groups.has(t.category)) groups.set(t.category, []);
    groups.get(t.category).push(t);
  }
  const names = [...groups.keys()].sort((a, b) => {
    const ia = ORDER.includes(a) ? ORDER.indexOf(a) : ORDER.length;
    const ib = ORDER.includes(b) ? ORDER.indexOf(b) : ORDER.length;
    return ia - ib || a.localeCompare(b);
  });
  const filter = h('input', { type: 'search', class: 'palette-filter', placeholder: 'filter nodes', 'aria-label': 'filter nodes', 'data-testid': 'palette-filter' });
  const list = h('div', { class: 'palette-groups' });
  for (const name of names) {
    const entries = groups.get(name).sort((a, b) => a.type.localeCompare(b.type)).map((t) => entry(t));
    const header = h('button', { class: 'palette-header', 'aria-expanded': 'true', 'data-testid': `palette-category-${name}` }, name);
    const body = h('div', { class: 'palette-body' }, entries);
    header.addEventListener('click', () => {
      const open = header.getAttribute('aria-expanded') !== 'true';
      header.setAttribute('aria-expanded', String(open));
      body.hidden = !open;
    });
    list.append(h('section', { class: 'palette-group', 'data-category': name }, header, body));
  }
  filter.addEventListener('input', () => {
    const q = filter.value.trim().toLowerCase();
    for (const el of list.querySelectorAll('.palette-node')) {
      el.hidden = !!q && !`${el.dataset.type} ${el.title}`.toLowerCase().includes(q);
    }
    for (const group of list.querySelectorAll('.palette-group')) {
      group.hidden = !group.querySelector('.palette-node:not([hidden])');
    }
  });
  host.replaceChildren(filter, list);

  function entry(t) {
    const el = h('div', {
      class: 'palette-node', 'data-testid': `palette-${t.type}`, 'data-type': t.type, role: 'button', tabindex: '0',
      title: `${t.schema.title || t.type}: ${t.schema.description || ''}`, 'aria-label': `add ${t.type} node`,
      style: `--node-color:${t.color}`,
    },
    t.inputs ? h('span', { class: 'pport in' }) : null,
    icon(t.icon),
    h('span', { class: 'palette-label' }, t.type),
    t.type.startsWith('subflow:') ? editButton(t) : null,
    t.outputs ? h('span', { class: 'pport out' }) : null);
    el.addEventListener('pointerdown', (e) => startDrag(e, t, el));
    el.addEventListener('keydown', (e) => { if (e.key === 'Enter') onDrop(t.type, null, null); });
    return el;
  }

  /** A subflow's entry opens its definition for editing. */
  function editButton(t) {
    const button = h('button', { type: 'button', class: 'palette-edit', 'data-testid': `palette-edit-${t.type}`,
      title: `Edit the subflow ${t.type}`, 'aria-label': `edit ${t.type}` }, 'edit');
    button.addEventListener('pointerdown', (e) => e.stopPropagation()); // a click, not a drag
    button.addEventListener('click', () => onEdit(t.type));
    return button;
  }

  function startDrag(e, t, el) {
    if (e.button !== 0) return;
    e.preventDefault();
    const rect = el.getBoundingClientRect();
    const dx = e.clientX - rect.left;
    const dy = e.clientY - rect.top;
    let ghost = null;
    const move = (ev) => {
      if (!ghost) {
        if (Math.abs(ev.clientX - e.clientX) + Math.abs(ev.clientY - e.clientY) < 3) return;
        ghost = el.cloneNode(true);
        ghost.removeAttribute('data-testid');
        ghost.classList.add('palette-ghost');
        document.body.append(ghost);
      }
      ghost.style.transform = `translate(${ev.clientX - dx}px,${ev.clientY - dy}px)`;
      ghost.classList.toggle('no-drop', !canDrop(ev.clientX, ev.clientY));
    };
    const up = (ev) => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      if (!ghost) return;
      ghost.remove();
      if (canDrop(ev.clientX, ev.clientY)) onDrop(t.type, ev.clientX, ev.clientY);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  }
}

/** The help of a node type, for the info tab. */
export function typeHelp(t) {
  const rows = Object.entries(t.schema.properties || {}).map(([key, p]) => [
    h('dt', null, h('code', null, key), p.title ? ` \u2014 ${p.title}` : ''),
    h('dd', null, richText(p.description || ''), 'default' in p ? h('span', { class: 'muted' }, ` Default: ${JSON.stringify(p.default)}.`) : null)]);
  return h('div', { class: 'type-help' },
    h('p', null, richText(t.schema.description || '')),
    h('p', { class: 'muted' }, `${t.category} \u00b7 ${t.shared ? 'shared connection' : `${t.inputs} input, ${t.outputs} output${t.outputs === 1 ? '' : 's'}`} \u00b7 ${t.source}`),
    rows.length ? h('dl', { class: 'fields' }, rows) : null);
}
