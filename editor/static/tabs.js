// tabs.js: the tab bar. Each flow file the process runs is a tab (GET /api/tabs); the
// page edits one at a time: switching loads that file's document with its own ETag and
// points deploy and validation at it (api.setTab). Add, rename and delete go through
// the server, which keeps every cross-file rule: the page learns only which connections
// the other tabs hold, so a reference into another tab is not flagged as missing.
// Reordering is the page's alone (local storage, see saveOrder).

import * as api from './api.js';
import { choose, dialog } from './dialogs.js';
import { h, debounce, toast } from './util.js';

export class TabBar {
  /** app: {model, deployer, canvas}; host: the element the bar is drawn in. */
  constructor(host, app) {
    this.host = host;
    this.app = app;
    this.tabs = []; // the last listing
    this.current = null; // name of the tab on the canvas (null until the first listing)
    this.refreshSoon = debounce(() => this.refresh(), 200);
    this.switches = 0; // bumped by each switch, so only the last one clicked loads
  }


  get isFirst() { return !this.tabs.length || this.current === this.tabs[0].name; }

  async refresh() {
    let tabs;
    try { tabs = await api.listTabs(); } catch { return; }
    this.apply(tabs);
  }

  /** Take a listing: the bar, and the connections of the tabs not on the canvas. */
  apply(tabs) {
    this.tabs = inSavedOrder(tabs);
    if (this.current === null && this.tabs.length) this.current = this.tabs[0].name; // the page loaded it through /api/flow
    this.app.model.elsewhere = new Map(this.tabs.filter((t) => t.name !== this.current)
      .flatMap((t) => t.connections.map((c) => [c.id, { ...c, tab: t.name }])));
    this.render();
  }

  render() {
    const items = this.tabs.map((tab, i) => {
      const label = tab.label || tab.name;
      const button = h('button', {
        type: 'button', role: 'tab', class: 'tab', 'data-testid': `tab-${tab.name}`, 'aria-selected': String(tab.name === this.current),
        title: `${tab.file} (double-click to rename)`,
      }, label);
      button.addEventListener('click', () => this.switchTo(tab.name));
      button.addEventListener('dblclick', () => this.rename(tab.name));
      const remove = i === 0 ? null : h('button', {
        type: 'button', class: 'tab-delete', 'data-testid': `tab-delete-${tab.name}`, title: `Delete the tab ${label} and its file`, 'aria-label': `delete tab ${label}`,
      }, '\u00d7');
      if (remove) remove.addEventListener('click', () => this.remove(tab.name));
      const item = h('span', { class: `tab-item${tab.name === this.current ? ' current' : ''}`, 'data-tab': tab.name }, button, remove);
      if (i > 0) this.movable(item, button, tab.name);
      return item;
    });
    const add = h('button', { type: 'button', class: 'tab-add', 'data-testid': 'tab-add', title: 'Add a tab (a new flow file)', 'aria-label': 'add tab' }, '+');
    add.addEventListener('click', () => this.add());
    this.host.replaceChildren(h('div', { role: 'tablist', class: 'tabs' }, items), add);
  }

  /** Drag a tab onto another (or Alt+Left/Right on it) to move it there. */
  movable(item, button, name) {
    item.draggable = true;
    item.addEventListener('dragstart', (e) => { e.dataTransfer.setData('text/x-portless-tab', name); e.dataTransfer.effectAllowed = 'move'; });
    item.addEventListener('dragover', (e) => { if (e.dataTransfer.types.includes('text/x-portless-tab')) e.preventDefault(); });
    item.addEventListener('drop', (e) => {
      const moved = e.dataTransfer.getData('text/x-portless-tab');
      if (!moved) return;
      e.preventDefault();
      this.move(moved, this.tabs.findIndex((t) => t.name === name));
    });
    button.addEventListener('keydown', (e) => {
      if (!e.altKey || (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight')) return;
      e.preventDefault();
      this.move(name, this.tabs.findIndex((t) => t.name === name) + (e.key === 'ArrowLeft' ? -1 : 1));
      this.host.querySelector(`[data-testid="tab-${CSS.escape(name)}"]`).focus();
    });
  }

  /** Put tab `name` at position `to` (never before the first tab) and remember it. */
  move(name, to) {
    const from = this.tabs.findIndex((t) => t.name === name);
    if (from < 1 || to < 1 || to >= this.tabs.length || to === from) return;
    const [tab] = this.tabs.splice(from, 1);
    this.tabs.splice(to, 0, tab);
    saveOrder(this.tabs);
    this.render();
  }

  /** Show tab `name` on the canvas; asks first if undeployed changes would be lost. */
  async switchTo(name, { force = false } = {}) {
    if (name === this.current && !force) return true;
    const { model, deployer, canvas } = this.app;
    if (document.querySelector('.tray')) { toast('Close the edit tray first.', 'info'); return false; }
    if (model.changeCount && !force) {
      const n = model.changeCount;
      const go = await choose('Undeployed changes', `This tab has ${n} undeployed change${n === 1 ? '' : 's'}; switching drops ${n === 1 ? 'it' : 'them'}.`,
        [{ label: 'Drop and switch', value: true, danger: true, testid: 'tab-switch-drop' }, { label: 'Cancel', value: false, testid: 'tab-switch-cancel' }]);
      if (!go) return false;
    }
    const mine = ++this.switches;
    const target = this.tabs.length && name === this.tabs[0].name ? null : name;
    let flow;
    let tabs = this.tabs;
    try {
      // The other tabs' connections come too, so the load checks references against them.
      [flow, tabs] = await Promise.all([api.getFlow(target), api.listTabs().catch(() => this.tabs)]);
    } catch (error) {
      if (mine === this.switches) toast(`Could not open the tab ${name}: ${error.message}`, 'error', 8000);
      return false;
    }
    if (mine !== this.switches) return false; // another tab was clicked meanwhile
    // Nothing awaits from here to the load: the tab the page names, the URL validation and
    // deploy use and the model's document change together, so a validation that fires
    // while the tab loads posts the old tab's document to the old tab's URL.
    this.current = name;
    api.setTab(target);
    this.apply(tabs);
    canvas.setSelection([]);
    deployer.hideBanner();
    model.load(flow.doc, flow.etag);
    return true;
  }

  /** A websocket flow-changed (first tab) or tab-changed (any tab) event. */
  changed(event) {
    if (event.kind === 'tab-changed') {
      this.refreshSoon();
      if (!this.isFirst && event.tab === this.current) this.app.deployer.flowChanged(event.etag);
    } else if (this.isFirst) this.app.deployer.flowChanged(event.etag);
  }

  async add() {
    const values = await ask('Add a tab', 'tab-add-dialog', [
      { key: 'name', label: 'File name (NAME.json, beside the other flow files)', pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}' },
      { key: 'label', label: 'Label (the flow\u2019s name, shown on the tab)' }]);
    if (!values) return;
    const r = await api.addTab(values.name, values.label);
    if (r.status !== 201) {
      if (r.status !== 401) toast(`Not added: ${reason(r)}`, 'error', 8000);
      return;
    }
    await this.refresh();
    toast(`Added the tab ${values.label || values.name}`, 'ok');
    await this.switchTo(values.name);
  }

  /** A new label for the tab on the canvas: its document's `name`, deployed at once
   * unless other undeployed changes would go with it (then it waits for Deploy). */
  async rename(name) {
    if (!(await this.switchTo(name))) return;
    const { model, deployer } = this.app;
    const values = await ask('Rename the tab', 'tab-rename-dialog', [{ key: 'label', label: 'Label', value: model.head.name || '' }]);
    if (!values) return;
    const alone = model.changeCount === 0;
    model.transaction('rename flow', () => model.setFlowName(values.label.trim()));
    if (!alone) { toast('Renamed: deploy to save it with your other changes.', 'info'); return; }
    await deployer.deploy();
    await this.refresh();
  }

  async remove(name) {
    const tab = this.tabs.find((t) => t.name === name);
    if (!tab) return;
    const current = name === this.current;
    const lost = current && this.app.model.changeCount ? ' and this page\u2019s undeployed changes to it' : '';
    const go = await choose('Delete the tab', `Stop the nodes of ${tab.label || name} and delete ${tab.file}${lost}?`,
      [{ label: 'Delete', value: true, danger: true, testid: 'tab-delete-confirm' }, { label: 'Cancel', value: false, testid: 'tab-delete-cancel' }]);
    if (!go) return;
    if (current) api.closeTab(); // nothing goes to the file while (and once) it is deleted
    const r = await api.deleteTab(name, current ? this.app.model.etag : api.normEtag(tab.etag));
    if (r.status !== 200) {
      if (current) api.setTab(name);
      if (r.status !== 401) toast(`Not deleted: ${reason(r)}`, 'error', 10000);
      return;
    }
    toast(`Deleted the tab ${tab.label || name}: ${r.data.stopped.length} node${r.data.stopped.length === 1 ? '' : 's'} stopped`, 'ok');
    if (current) await this.switchTo(this.tabs[0].name, { force: true });
    await this.refresh();
  }
}

// The order of the tabs after the first is this browser's, in its local storage (per
// process, keyed by the first tab's file): it changes nothing the runtime does, so it
// needs no write on the device. The first tab stays first: it is /api/flow's.
const orderKey = (tabs) => `portless.tab-order:${tabs[0].file}`;

function saveOrder(tabs) {
  try { localStorage.setItem(orderKey(tabs), JSON.stringify(tabs.map((t) => t.name))); } catch { /* storage off: the order lasts this page */ }
}

/** The server's listing with the tabs after the first in the saved order; new ones last. */
function inSavedOrder(tabs) {
  if (!tabs.length) return tabs;
  let saved = [];
  try { saved = JSON.parse(localStorage.getItem(orderKey(tabs)) || '[]'); } catch { /* none kept */ }
  if (!Array.isArray(saved)) return tabs;
  const rank = (t) => { const i = saved.indexOf(t.name); return i < 0 ? saved.length : i; };
  return [tabs[0], ...tabs.slice(1).map((t, i) => ({ t, i })).sort((a, b) => rank(a.t) - rank(b.t) || a.i - b.i).map((x) => x.t)];
}

/** An answer's reason in words: its flow errors, else its error sentence. */
const reason = (r) => (r.data && Array.isArray(r.data.errors) && r.data.errors.length ? r.data.errors.join('; ')
  : (r.data && r.data.error) || `HTTP ${r.status}`);

/** A dialog of text fields; resolves to {key: value} on OK, null on Cancel or Escape. */
function ask(title, testid, fields) {
  return new Promise((resolve) => {
    let result = null;
    const inputs = fields.map((f) => h('input', { type: 'text', value: f.value || '', 'data-testid': `${testid}-${f.key}`, 'aria-label': f.label, ...(f.pattern ? { pattern: f.pattern, required: true } : {}) }));
    const ok = (close) => {
      if (inputs.some((input) => !input.reportValidity())) return;
      result = Object.fromEntries(fields.map((f, i) => [f.key, inputs[i].value]));
      close();
    };
    const { body, close } = dialog({
      title, testid, onClose: () => resolve(result),
      body: fields.map((f, i) => h('label', { class: 'field' }, h('span', null, f.label), inputs[i])),
      buttons: [{ label: 'OK', testid: `${testid}-ok`, primary: true, onClick: ok }, { label: 'Cancel', testid: `${testid}-cancel` }],
    });
    body.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); ok(close); } });
  });
}
