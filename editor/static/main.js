// main.js: starts the editor and wires the modules together: load the node types and
// the flow, redraw and re-check what each change touched, open forms, route the
// websocket's events, map buttons and keys to actions.
//
// Test hooks (data-testid unless said otherwise), stable for browser tests:
//   app shell            body[data-ready="true"] once the flow is drawn; window.portless = {model, canvas, debug, problems, tabs, deploy}
//   palette              palette-<type> (entries), palette-category-<category>, palette-filter
//   canvas               canvas (the <svg>); nodes g[data-node-id="<id>"] (also node-<id>),
//                        their ports [data-port="in"], [data-port="out-0"]..., inject button inject-<id>,
//                        wires g[data-wire-from="<id>"][data-wire-port="0"][data-wire-to="<id>"], lasso
//   live state           status-<id> (status text), invalid-<id> (red triangle), changed-<id> (blue dot)
//   header               deploy, deploy-count, undo, redo, import, export, ws-state
//   zoom                 zoom-in, zoom-out, zoom-reset
//   edit tray            tray (aside[data-node="<id>"]), node-form, form-done, form-cancel, form-delete,
//                        form-errors, form-outputs (the count a config gives, for outputs that follow it); fields [data-field="/name"], [data-field="/id"], [data-field="/config/<key>"]
//                        (nested: /config/tls/ca_file; tls's checkbox is [data-field="/config/tls"]),
//                        inline errors [data-error-for="<same pointer>"], ref-edit-<pointer>, map-add-<pointer>;
//                        a typed value: [data-field="<pointer>/kind"] and [data-field="<pointer>/value"];
//                        a rule list [data-field="<pointer>"]: rows li[data-row="<pointer>/<i>"] with list-handle,
//                        list-port, list-up, list-down, list-remove; list-add-<pointer>; a code field: its textarea
//                        (class code) and .code-lines
//   sidebar              tab-debug, tab-info, tab-connections, panel-debug, panel-info, panel-connections,
//                        flow-name, info-problems, connection-<id>, add-shared-<type>
//   debug                debug-list, debug-item (data-node, data-kind = debug|warning|error), debug-left-out,
//                        debug-filter, debug-clear, debug-pause
//   dialogs              dialog-conflict (conflict-review, conflict-reload, conflict-overwrite, conflict-cancel,
//                        conflict-diff), dialog-errors (deploy-error items), dialog-import (import-text,
//                        import-file, import-confirm, import-error), dialog-export (export-text, export-selected,
//                        export-all, export-copy, export-download)
//   banner               banner-flow-changed (banner-review, banner-reload, banner-overwrite, banner-dismiss)
//   find                 find-input, find-count
//   tabs                 tab-bar, tab-<name> (aria-selected on the shown one; double-click renames; dragged onto
//                        another, or Alt+Left/Right, moves it), tab-delete-<name>,
//                        tab-add, tab-add-dialog(-name, -label, -ok), tab-rename-dialog(-label, -ok), tab-delete-confirm,
//                        tab-switch-drop, tab-switch-cancel
//   subflows             palette-edit-<type> (a subflow entry's edit), subflow-bar (data-subflow=<name>),
//                        subflow-back, dialog-subflow-discard (subflow-discard, subflow-stay)
//   other                toast, signed-out

import * as api from './api.js';
import { Model, HEAD, remapWires } from './model.js';
import { Canvas } from './canvas.js';
import { buildPalette } from './palette.js';
import { openForm } from './form.js';
import { DebugPanel } from './debug.js';
import { Sidebar } from './sidebar.js';
import { bindKeys } from './keys.js';
import { overlayOpen } from './dialogs.js';
import { Problems } from './problems.js';
import { Deployer } from './deploy.js';
import { Transfer } from './transfer.js';
import { Finder } from './find.js';
import { TabBar } from './tabs.js';
import { SubflowMode } from './subflow.js';
import { references, refFields } from './schema.js';
import { h, clone, debounce, toast } from './util.js';

const $ = (sel) => document.querySelector(sel);
const model = new Model();
const problems = new Problems(model, (ids) => { for (const id of ids) updateMarkers(id); refreshSidebar(); });
let canvas;
let sidebar;
let debugPanel;
let deployer;
let transfer;
let finder;
let tabBar;
let subflows;
let socketOpened = false;

// --- start ---------------------------------------------------------------------------
async function start() {
  api.onUnauthorized(signedOut);
  let types;
  let flow;
  try {
    [types, flow] = await Promise.all([api.getNodes(), api.getFlow()]);
  } catch (error) {
    if (error.status !== 401) document.body.append(h('div', { class: 'fatal', role: 'alert' }, `The editor could not load the flow: ${error.message}`));
    return;
  }
  model.setTypes(types);
  canvas = new Canvas($('#workspace'), model);
  buildPalette($('#palette'), types, addNodeAt, (x, y) => canvas.containsClient(x, y) && !overlayOpen(),
    (type) => subflows.open(type));
  sidebar = new Sidebar($('#sidebar'), {
    model, edit: editNode, addShared: (type) => formCtx.editShared(type, null), reveal: revealNode,
    statusOf: (id) => canvas.statuses.get(id), problemsOf: (id) => problems.of(id), usersOf, flowProblems: () => problems.flow,
    setFlowName: (name) => model.transaction('rename flow', () => model.setFlowName(name.trim())),
  });
  debugPanel = new DebugPanel(sidebar.panel('debug'), {
    nodeName: (id) => (model.get(id) && model.get(id).name) || id, selection: () => [...canvas.selection], reveal: revealNode,
  });
  subflows = new SubflowMode(model, $('#banners'), (held) => { for (const [id, status] of held) canvas.setStatus(id, status); }, $('#tabbar'));
  // The server checks a flow file; a subflow is checked when it is deployed.
  problems.check = (doc) => (subflows.active ? Promise.reject(new Error('a subflow')) : api.validate(doc));
  deployer = new Deployer({ model, problems, revealNode, put: (doc, etag) => subflows.put(doc, etag), subflowOpen: () => subflows.active });
  transfer = new Transfer(model, canvas);
  finder = new Finder(model, canvas, $('#workspace-wrap'));
  tabBar = new TabBar($('#tabbar'), { model, deployer, canvas });
  model.addEventListener('change', (e) => onModelChange(e.detail));
  model.counts.addEventListener('change', (e) => canvas.applyChange(e.detail));
  canvas.addEventListener('selection', (e) => { sidebar.setSelection(e.detail); debugPanel.selectionChanged(); });
  canvas.addEventListener('edit', (e) => openNode(e.detail));
  canvas.addEventListener('inject', (e) => injectNode(e.detail));
  canvas.addEventListener('zoom', (e) => { $('[data-testid="zoom-reset"]').textContent = `${Math.round(e.detail * 100)}%`; });
  bindHeader();
  bindKeys(actions);
  await tabBar.refresh(); // before the load, so references into other tabs check out
  model.load(flow.doc, flow.etag);
  api.connect(onFrame, onSocketState);
  document.body.dataset.ready = 'true';
  performance.mark('portless:ready');
  window.portless = { model, canvas, debug: debugPanel, problems, tabs: tabBar, subflows, deploy: () => deployer.deploy() };
}

function signedOut() {
  if ($('[data-testid="signed-out"]')) return;
  document.body.append(h('div', { class: 'modal', 'data-testid': 'signed-out' }, h('div', { class: 'dialog', role: 'alertdialog' },
    h('h2', null, 'Not signed in'),
    h('div', { class: 'dialog-body' }, h('p', null, 'Open the editor with the address that ', h('code', null, 'portless run'),
      ' printed when it started (it ends in ', h('code', null, '?token=\u2026'), '). The token changes at every start, so an old tab needs the new address.')))));
}

// --- model changes -------------------------------------------------------------------
function onModelChange({ ids, kind }) {
  if (kind === 'load') {
    canvas.renderAll();
    problems.changed(model.nodes.keys());
    problems.server.clear();
    problems.recheckAll();
    for (const id of model.nodes.keys()) updateMarkers(id);
  } else if (kind === 'deployed') {
    for (const id of ids) updateMarkers(id);
  } else {
    canvas.applyChange(ids);
    problems.changed(ids);
    // A shared connection (or the flow) changed: the nodes referring to it may have too.
    const wide = [...ids].some((id) => id === HEAD || !model.get(id) || model.isShared(model.get(id)));
    const affected = wide ? new Set([...model.nodes.keys(), ...ids]) : ids;
    for (const id of affected) { if (id !== HEAD) problems.recheck(id); }
    for (const id of affected) updateMarkers(id);
  }
  updateButtons();
  refreshSidebar();
  if (kind !== 'deployed') {
    problems.schedule();
    model.counts.refresh(kind === 'load' ? model.nodes.keys() : ids);
  }
}

function updateMarkers(id) {
  if (id === HEAD) return;
  canvas.setChanged(id, model.isChanged(id));
  canvas.setInvalid(id, problems.of(id).map((e) => `${e.pointer}: ${e.message}`));
}

const refreshSidebar = debounce(() => sidebar.refresh(), 150);

function usersOf(id) {
  const users = [];
  for (const node of model.nodes.values()) {
    const type = model.type(node.type);
    if (type && references(type.schema, node.config).some((r) => r.id === id)) users.push(node.id);
  }
  return users;
}

function updateButtons() {
  const count = model.changeCount;
  const deployButton = $('[data-testid="deploy"]');
  deployButton.classList.toggle('has-changes', count > 0);
  deployButton.title = count ? `Deploy ${count} change${count === 1 ? '' : 's'} (Ctrl+D)` : 'Deploy (Ctrl+D): no undeployed changes';
  const badge = $('[data-testid="deploy-count"]');
  badge.textContent = String(count);
  badge.hidden = count === 0;
  $('[data-testid="undo"]').disabled = !model.undoStack.length;
  $('[data-testid="redo"]').disabled = !model.redoStack.length;
  document.title = `${count ? '\u25cf ' : ''}${model.head.name || 'flow'} \u2014 portless`;
  $('#flow-title').textContent = model.head.name || '';
}

// --- nodes ---------------------------------------------------------------------------
function newNode(type) {
  const node = { id: model.newId(type.type), type: type.type, config: {} };
  for (const { key, type: wanted } of refFields(type.schema)) {
    const shared = model.sharedOfType(wanted);
    if (shared.length) node.config[key] = shared[0].id; // as Node-RED, preselect the first connection
  }
  if (type.outputs > 0 && !type.shared) node.wires = Array.from({ length: type.outputs }, () => []);
  return node;
}

/** A palette drop (client position), or Enter on a palette entry (null: top-left of the view). */
function addNodeAt(typeName, clientX, clientY) {
  const type = model.type(typeName);
  if (!type || type.shared) return;
  const node = newNode(type);
  const size = canvas.measure(node);
  const p = clientX === null ? canvas.visibleOrigin() : canvas.toCanvas(clientX, clientY);
  const offset = clientX === null ? { x: 0, y: 0 } : { x: size.w / 2, y: size.h / 2 };
  node.x = Math.max(0, Math.round(p.x - offset.x));
  node.y = Math.max(0, Math.round(p.y - offset.y));
  model.transaction(`add ${type.type}`, () => model.add(node));
  canvas.setSelection([node.id]);
}

const formCtx = {
  model,
  host: document.getElementById('trays'),
  serverErrors: (id) => problems.server.get(id) || [],
  refErrors: (node) => problems.refErrors(node),
  usersOf,
  countOutputs: (node) => model.counts.of(node),
  /** Draw a node being edited with the ports its form's config gives (null: as the model has it). */
  preview(id, outputs) {
    const node = model.get(id);
    canvas.preview(id, node && outputs ? { count: outputs.count, wires: remapWires(node.wires || [], outputs.ports, outputs.count) } : null);
  },
  async editShared(type, id) {
    if (id) { await editNode(id); return model.has(id) ? id : null; }
    const t = model.type(type);
    return t ? openForm(formCtx, newNode(t), { isNew: true }) : null;
  },
  /** `outputs`: the edited config's output count, when the server told it; the wires
   * from ports past it go in the same undoable step as the config, and so does moving
   * each port's wires with its rule (`ports`, see form.js portMap). */
  done(original, edited, isNew, outputs, ports) {
    model.transaction(isNew ? `add ${edited.type}` : `edit ${original.id}`, () => {
      if (isNew) { model.add(edited); return; }
      if (edited.id !== original.id) model.rename(original.id, edited.id);
      model.update(edited.id, (n) => {
        if (edited.name) n.name = edited.name; else delete n.name;
        n.config = edited.config;
      });
      if (ports) model.remapPorts(edited.id, ports);
      if (outputs !== undefined) model.trimWires(edited.id, outputs);
    });
    if (!isNew && edited.id !== original.id && canvas.views.has(edited.id)) canvas.setSelection([edited.id]);
  },
  remove(id) { model.transaction(`delete ${id}`, () => model.remove([id])); },
};

async function editNode(id) {
  const node = model.get(id);
  if (!node || document.querySelector(`.tray[data-node="${CSS.escape(id)}"]`)) return;
  await openForm(formCtx, clone(node));
  if (!overlayOpen()) canvas.host.focus({ preventScroll: true });
}

/** A double-click: a subflow instance opens its subflow's definition, any other node its form
 * (an instance's own form, for its parameters, opens with Enter). */
function openNode(id) {
  const node = model.get(id);
  if (node && node.type.startsWith('subflow:')) subflows.open(node.type);
  else editNode(id);
}

async function injectNode(id) {
  if (model.isChanged(id)) toast(`${id} has undeployed changes: the running version reads.`, 'info');
  try {
    await api.inject(id);
    toast(`Injected into ${id}`, 'ok', 1500);
  } catch (error) {
    toast(`Inject failed: ${error.message}`, 'error');
  }
}

function revealNode(id) {
  if (!model.has(id)) return;
  if (model.isShared(model.get(id))) { sidebar.show('connections'); editNode(id); return; }
  canvas.setSelection([id]);
  canvas.reveal(id);
}

// --- websocket -----------------------------------------------------------------------
function onFrame(events) {
  const messages = [];
  let sharedStatus = false;
  for (const e of events) {
    if (e.kind === 'status') {
      const id = subflows.statusTarget(e);
      if (id === null) continue;
      canvas.setStatus(id, e);
      if (!canvas.views.has(id)) sharedStatus = true;
    } else if (e.kind === 'flow-changed' || e.kind === 'tab-changed') { if (!subflows.active) tabBar.changed(e); } // a subflow's file is not a tab
    else messages.push(e);
  }
  if (messages.length) debugPanel.add(messages);
  if (sharedStatus) refreshSidebar();
}

function onSocketState(s) {
  const el = $('[data-testid="ws-state"]');
  el.dataset.state = s;
  el.title = s === 'open' ? 'Live: connected to the runtime' : 'Not connected to the runtime; retrying';
  el.setAttribute('aria-label', el.title);
  // After a gap, a flow-changed may have been missed; a restarted runtime (new token) answers 401.
  if (socketOpened && !subflows.active) api.getFlow().then(({ etag }) => deployer.flowChanged(etag)).catch(() => {});
  if (s === 'open') socketOpened = true;
}

// --- header and keys ---------------------------------------------------------------------
function deleteSelection() {
  if (canvas.selectedWire) {
    const w = canvas.selectedWire;
    model.transaction('delete wire', () => model.disconnect(w.src, w.port, w.dst));
    return true;
  }
  if (!canvas.selection.size) return false;
  const ids = [...canvas.selection];
  model.transaction(`delete ${ids.length} node${ids.length === 1 ? '' : 's'}`, () => model.remove(ids));
  return true;
}

function undoRedo(which) {
  const done = which === 'undo' ? model.undo() : model.redo();
  if (!done) return;
  const drawn = [...done.ids].filter((id) => canvas.views.has(id));
  if (drawn.length && drawn.length < 50) canvas.setSelection(drawn);
}

const actions = {
  deploy: () => { deployer.deploy(); },
  undo: () => undoRedo('undo'),
  redo: () => undoRedo('redo'),
  copy: () => { transfer.copy(); },
  cut: () => { if (transfer.copy()) deleteSelection(); },
  paste: () => transfer.pasteShortcut(),
  selectAll: () => canvas.setSelection(canvas.views.keys()),
  find: () => finder.open(),
  import: () => transfer.importDialog(),
  export: () => transfer.exportDialog(),
  remove: () => deleteSelection(),
  edit: () => { const [id] = canvas.selection; if (id) editNode(id); else return false; },
  escape: () => { if (!finder.close()) { canvas.setSelection([]); canvas.selectWire(null); } },
  nudge: (dx, dy) => canvas.nudge(dx, dy),
  zoomIn: () => canvas.zoomTo(canvas.scale * 1.25),
  zoomOut: () => canvas.zoomTo(canvas.scale / 1.25),
  zoomReset: () => canvas.zoomTo(1),
};

function bindHeader() {
  const on = (testid, fn) => $(`[data-testid="${testid}"]`).addEventListener('click', fn);
  on('deploy', actions.deploy);
  on('undo', actions.undo);
  on('redo', actions.redo);
  on('import', actions.import);
  on('export', actions.export);
  on('find', actions.find);
  on('zoom-in', actions.zoomIn);
  on('zoom-out', actions.zoomOut);
  on('zoom-reset', actions.zoomReset);
  window.addEventListener('beforeunload', (e) => { if (model.changeCount) { e.preventDefault(); e.returnValue = ''; } });
}

start();
