// sidebar.js: the right-hand sidebar: tabs for debug, info (the selected node and its
// type's help, or the flow) and connections (the shared nodes, Node-RED's config nodes).

import { h } from './util.js';
import { typeHelp } from './palette.js';

const SHORTCUTS = [
  ['Ctrl+D', 'deploy'], ['Ctrl+Z / Ctrl+Y', 'undo / redo'], ['Ctrl+C / X / V', 'copy, cut, paste'],
  ['Delete', 'delete the selection'], ['Ctrl+A', 'select all'], ['Enter', 'edit the selected node'],
  ['Ctrl+F', 'find a node'], ['Ctrl+I / Ctrl+E', 'import / export'], ['Arrows', 'move (Shift: 20 px)'],
  ['Space+drag, middle drag', 'pan'], ['Ctrl+wheel', 'zoom'], ['Escape', 'close, clear the selection'],
];

export class Sidebar {
  constructor(host, hooks) {
    this.hooks = hooks; // {model, edit(id), addShared(type), reveal(id), statusOf(id), problemsOf(id), usersOf(id), flowProblems(), setFlowName(name)}
    this.model = hooks.model;
    this.tabs = new Map();
    this.selection = [];
    const bar = h('div', { class: 'tabs', role: 'tablist' });
    const panels = h('div', { class: 'panels' });
    for (const [name, label] of [['debug', 'Debug'], ['info', 'Info'], ['connections', 'Connections']]) {
      const tab = h('button', { type: 'button', role: 'tab', id: `tab-${name}`, 'aria-controls': `panel-${name}`, 'data-testid': `tab-${name}`, title: label }, label);
      const panel = h('section', { class: 'panel', role: 'tabpanel', id: `panel-${name}`, 'aria-labelledby': `tab-${name}`, 'data-testid': `panel-${name}`, hidden: true });
      tab.addEventListener('click', () => this.show(name));
      bar.append(tab);
      panels.append(panel);
      this.tabs.set(name, { tab, panel });
    }
    host.replaceChildren(bar, panels);
    this.show('debug');
  }

  panel(name) { return this.tabs.get(name).panel; }

  show(name) {
    for (const [n, { tab, panel }] of this.tabs) {
      tab.setAttribute('aria-selected', String(n === name));
      panel.hidden = n !== name;
    }
    this.current = name;
    if (name === 'info') this.renderInfo();
    if (name === 'connections') this.renderConnections();
  }

  setSelection(ids) {
    this.selection = ids;
    if (this.current === 'info') this.renderInfo();
  }

  /** Something in the model or the live state changed. */
  refresh() {
    if (this.current === 'info') this.renderInfo();
    if (this.current === 'connections') this.renderConnections();
  }

  renderInfo() {
    const panel = this.panel('info');
    const { model } = this;
    const ids = this.selection.filter((id) => model.has(id));
    if (ids.length === 1) {
      const node = model.get(ids[0]);
      const type = model.type(node.type);
      const status = this.hooks.statusOf(node.id);
      const problems = this.hooks.problemsOf(node.id);
      fill(panel,
        h('h3', null, node.name || node.type),
        h('table', { class: 'props' }, h('tbody', null,
          prop('id', h('code', null, node.id)), prop('type', node.type),
          prop('status', status && (status.text || status.fill) ? `${status.fill || ''} ${status.text || ''}`.trim() : '\u2014'),
          prop('changed', model.isChanged(node.id) ? 'yes, not deployed' : 'no'))),
        problems.length ? h('div', { class: 'problems', 'data-testid': 'info-problems' }, h('h4', null, 'Problems'),
          h('ul', null, problems.map((p) => h('li', null, `${p.pointer}: ${p.message}`)))) : null,
        h('div', { class: 'info-actions' }, h('button', { type: 'button', class: 'small', onclick: () => this.hooks.edit(node.id) }, 'Edit\u2026')),
        type ? typeHelp(type) : h('p', { class: 'muted' }, `No node type '${node.type}' is installed.`));
      return;
    }
    if (ids.length > 1) {
      fill(panel, h('h3', null, `${ids.length} nodes selected`),
        h('ul', { class: 'plain' }, ids.slice(0, 50).map((id) => h('li', null, h('code', null, id), ` ${model.get(id).type}`))));
      return;
    }
    const name = h('input', { type: 'text', value: model.head.name || '', 'data-testid': 'flow-name', 'aria-label': 'flow name', placeholder: 'flow name' });
    name.addEventListener('change', () => this.hooks.setFlowName(name.value));
    const flowProblems = this.hooks.flowProblems();
    fill(panel,
      h('h3', null, 'Flow'),
      h('label', { class: 'stack' }, 'Name', name),
      h('p', { class: 'muted' }, `${model.nodes.size} nodes, ${model.changeCount} undeployed change${model.changeCount === 1 ? '' : 's'}.`),
      flowProblems.length ? h('div', { class: 'problems' }, h('h4', null, 'Problems'), h('ul', null, flowProblems.map((p) => h('li', null, p)))) : null,
      h('h4', null, 'Keyboard'),
      h('table', { class: 'keys' }, h('tbody', null, SHORTCUTS.map(([k, what]) => h('tr', null, h('td', null, h('kbd', null, k)), h('td', null, what))))));
  }

  renderConnections() {
    const panel = this.panel('connections');
    const { model } = this;
    const sharedTypes = [...model.types.values()].filter((t) => t.shared);
    const sections = sharedTypes.map((t) => {
      const add = h('button', { type: 'button', class: 'small', 'data-testid': `add-shared-${t.type}`, title: `Add a ${t.type}`, 'aria-label': `add ${t.type}` }, '+ add');
      add.addEventListener('click', () => this.hooks.addShared(t.type));
      const items = model.sharedOfType(t.type).map((n) => {
        const users = this.hooks.usersOf(n.id);
        const status = this.hooks.statusOf(n.id);
        const problems = this.hooks.problemsOf(n.id);
        const item = h('li', { class: 'connection', 'data-testid': `connection-${n.id}`, tabindex: '0', role: 'button', title: 'Edit' },
          h('span', { class: 'conn-name' }, n.name || n.id),
          n.name ? h('code', { class: 'muted' }, n.id) : null,
          model.isChanged(n.id) ? h('span', { class: 'dot changed', title: 'changed since the last deploy', 'data-testid': `changed-${n.id}` }) : null,
          problems.length ? h('span', { class: 'tri', title: problems.map((p) => p.message).join('\n'), 'data-testid': `invalid-${n.id}` }, '\u25b2') : null,
          h('span', { class: 'conn-users muted' }, users.length ? `used by ${users.length}` : 'unused'),
          status ? h('div', { class: 'conn-status' }, h('span', { class: `sdot ${status.fill || ''} ${status.shape || ''}` }), h('span', { 'data-testid': `status-${n.id}` }, status.text || '')) : null);
        item.addEventListener('click', () => this.hooks.edit(n.id));
        item.addEventListener('keydown', (e) => { if (e.key === 'Enter') this.hooks.edit(n.id); });
        return item;
      });
      return h('section', { class: 'conn-group' },
        h('div', { class: 'conn-head' }, h('span', { class: 'swatch', style: `background:${t.color}` }), h('strong', null, t.type), h('span', { class: 'spacer' }), add),
        items.length ? h('ul', { class: 'plain' }, items) : h('p', { class: 'muted' }, 'none yet'));
    });
    fill(panel, h('p', { class: 'muted' }, 'Shared connections, used by the nodes that name them.'),
      ...(sections.length ? sections : [h('p', { class: 'muted' }, 'No shared connection types are installed.')]));
  }
}

const fill = (el, ...children) => el.replaceChildren(...children.filter(Boolean));
const prop = (k, v) => h('tr', null, h('th', null, k), h('td', null, v));
