// transfer.js: nodes in and out of the flow as JSON: copy, cut and paste (this page's
// clipboard, or the system clipboard from another tab), the import and export dialogs.

import { canonicalText } from './canonical.js';
import { dialog } from './dialogs.js';
import { NodeRedOffer, nodeRedNodes } from './node_red_import.js';
import { references, secretFields } from './schema.js';
import { h, clone, equal, toast, MASK } from './util.js';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

export class Transfer {
  constructor(model, canvas) {
    this.model = model;
    this.canvas = canvas;
    this.clipboard = null;
    this.pasteWanted = false;
    this.writeFailed = false;
    document.addEventListener('paste', (e) => {
      if (!this.pasteWanted) return;
      this.pasteWanted = false;
      // The system clipboard wins (a copy in another tab), unless this page's last copy
      // could not be written there: then it holds something older.
      const text = !this.writeFailed && e.clipboardData && e.clipboardData.getData('text/plain');
      const nodes = text && parseNodes(text, true);
      e.preventDefault();
      this.paste(nodes && nodes.length ? nodes : this.clipboard);
    });
  }

  /** The selected nodes and the shared connections they use, in file order. */
  selectionNodes() {
    const { model } = this;
    const ids = new Set(this.canvas.selection);
    for (const id of [...ids]) {
      const node = model.get(id);
      const type = node && model.type(node.type);
      if (type) for (const r of references(type.schema, node.config)) if (model.has(r.id)) ids.add(r.id);
    }
    return model.toDocument(ids).nodes;
  }

  copy() {
    const count = this.canvas.selection.size;
    if (!count) return false;
    this.clipboard = clone(this.selectionNodes());
    const text = canonicalText({ version: 1, nodes: this.clipboard });
    this.writeFailed = !(navigator.clipboard && navigator.clipboard.writeText);
    if (!this.writeFailed) navigator.clipboard.writeText(text).catch(() => { this.writeFailed = true; });
    toast(`Copied ${count} node${count === 1 ? '' : 's'}`, 'info', 1500);
    return true;
  }

  /** Ctrl+V: let the browser fire its paste event (it carries the system clipboard, from
   * another tab say); if none comes, paste what this page copied. */
  pasteShortcut() {
    this.pasteWanted = true;
    setTimeout(() => { if (this.pasteWanted) { this.pasteWanted = false; this.paste(this.clipboard); } }, 60);
    return false;
  }

  paste(nodes) {
    if (!nodes || !nodes.length) return;
    const p = this.canvas.lastPoint;
    this.insert(nodes, { fresh: true, at: p ? this.canvas.toCanvas(p.x, p.y) : null, offset: 20, label: 'paste' });
  }

  /**
   * Add nodes. fresh: every drawn node gets a new id (paste); otherwise only clashing ids
   * change (import). Wires stay inside the set; references follow renamed shared
   * connections; an identical shared connection that already exists is reused.
   */
  insert(list, { fresh, at, offset = 0, label }) {
    const { model } = this;
    const taken = new Set();
    const idMap = new Map();
    const out = [];
    for (const n of list) {
      const shared = model.isShared(n);
      const existing = model.get(n.id);
      if (shared && existing && existing.type === n.type && equal(existing.config || {}, n.config || {})) { idMap.set(n.id, n.id); continue; }
      const clash = typeof n.id !== 'string' || !ID_PATTERN.test(n.id) || model.has(n.id) || taken.has(n.id);
      const id = clash || (fresh && !shared) ? model.newId(n.type, taken) : n.id;
      taken.add(id);
      idMap.set(n.id, id);
      const copy = { ...clone(n), id };
      const type = model.type(n.type);
      if (id !== n.id && type && copy.config) {
        // A masked secret means "the value stored for this id": a new id has none.
        for (const { holder, key } of secretFields(type.schema, copy.config)) if (holder[key] === MASK) holder[key] = '';
      }
      out.push(copy);
    }
    for (const n of out) {
      if (Array.isArray(n.wires)) n.wires = n.wires.map((port) => (port || []).filter((t) => idMap.has(t)).map((t) => idMap.get(t)));
      const type = model.type(n.type);
      if (type && n.config) for (const r of references(type.schema, n.config)) if (idMap.has(r.id)) r.holder[r.key] = idMap.get(r.id);
    }
    const drawn = out.filter((n) => !model.isShared(n));
    if (drawn.length) {
      const minX = Math.min(...drawn.map((n) => n.x || 0));
      const minY = Math.min(...drawn.map((n) => n.y || 0));
      const dx = at ? at.x - minX : offset;
      const dy = at ? at.y - minY : offset;
      for (const n of drawn) { n.x = Math.max(0, Math.round((n.x || 0) + dx)); n.y = Math.max(0, Math.round((n.y || 0) + dy)); }
    }
    model.transaction(label, () => out.forEach((n) => model.add(n)));
    this.canvas.setSelection(drawn.map((n) => n.id));
    toast(`${label === 'paste' ? 'Pasted' : 'Imported'} ${out.length} node${out.length === 1 ? '' : 's'}`, 'ok', 1800);
    return out;
  }

  importDialog() {
    const text = h('textarea', { class: 'code', rows: 16, 'data-testid': 'import-text', 'aria-label': 'flow JSON', placeholder: '{"version": 1, "nodes": [...]}', spellcheck: 'false' });
    const file = h('input', { type: 'file', accept: '.json,application/json', 'data-testid': 'import-file', 'aria-label': 'import from a file' });
    const error = h('div', { class: 'field-error', 'data-testid': 'import-error', role: 'alert', hidden: true });
    const add = (nodes, close) => {
      const occupied = [...this.model.nodes.values()].some((n) => !this.model.isShared(n));
      close();
      this.insert(nodes, { fresh: false, at: occupied ? this.canvas.visibleOrigin() : null, label: 'import' });
    };
    // A Node-RED export is converted first (node_red_import.js), never added as it is.
    const offer = new NodeRedOffer((nodes) => add(nodes, shown.close));
    text.addEventListener('input', () => { error.hidden = true; offer.update(text.value); });
    file.addEventListener('change', async () => { if (file.files[0]) { text.value = await file.files[0].text(); offer.update(text.value); } });
    const shown = dialog({
      title: 'Import nodes', testid: 'dialog-import', wide: true,
      body: [h('p', { class: 'muted' }, 'Paste a flow, a list of nodes or a Node-RED export. Nodes whose id is taken get a new one; wires between the imported nodes are kept.'), text, h('div', null, file), error, offer.el],
      buttons: [
        { label: 'Import', testid: 'import-confirm', primary: true, onClick: (close) => {
          if (nodeRedNodes(text.value)) { offer.update(text.value); offer.convert(); return; }
          try { add(parseNodes(text.value), close); } catch (e) { error.hidden = false; error.textContent = e.message; }
        } },
        { label: 'Cancel', testid: 'import-cancel' },
      ],
    });
  }

  exportDialog() {
    const some = this.canvas.selection.size > 0;
    const text = h('textarea', { class: 'code', rows: 16, readonly: true, 'data-testid': 'export-text', 'aria-label': 'flow JSON', spellcheck: 'false' });
    const radio = (value, label, checked, disabled) => h('label', { class: 'check-line' },
      h('input', { type: 'radio', name: 'export-what', value, checked, disabled, 'data-testid': `export-${value}` }), ` ${label}`);
    const fill = (what) => {
      text.value = canonicalText(what === 'selected' ? { version: 1, nodes: this.selectionNodes() } : this.model.toDocument());
    };
    const choice = h('div', { class: 'radio-line' }, radio('selected', `selected nodes (${this.canvas.selection.size})`, some, !some), radio('all', 'the whole flow', !some, false));
    choice.addEventListener('change', (e) => fill(e.target.value));
    fill(some ? 'selected' : 'all');
    const name = `${(this.model.head.name || 'flow').replace(/[^\w.-]+/g, '-').slice(0, 60)}.json`;
    dialog({
      title: 'Export nodes', testid: 'dialog-export', wide: true,
      body: [choice, text, h('p', { class: 'muted' }, `Secrets are exported masked (${MASK}).`)],
      buttons: [
        { label: 'Copy', testid: 'export-copy', primary: true, onClick: async (close) => {
          text.select();
          try { await navigator.clipboard.writeText(text.value); } catch { document.execCommand('copy'); }
          toast('Copied to the clipboard', 'ok', 1500);
          close();
        } },
        { label: 'Download', testid: 'export-download', onClick: () => {
          const url = URL.createObjectURL(new Blob([text.value], { type: 'application/json' }));
          const a = h('a', { href: url, download: name });
          document.body.append(a);
          a.click();
          a.remove();
          setTimeout(() => URL.revokeObjectURL(url), 1000);
        } },
        { label: 'Close', testid: 'export-close' },
      ],
    });
  }
}

/** The nodes of a flow document or a list of nodes; throws (or null when quiet). */
export function parseNodes(text, quiet = false) {
  const fail = (message) => { if (quiet) return null; throw new Error(message); };
  let data;
  try { data = JSON.parse(text); } catch (error) { return fail(`not valid JSON: ${error.message}`); }
  const nodes = Array.isArray(data) ? data : data && Array.isArray(data.nodes) ? data.nodes : null;
  if (!nodes) return fail('expected a flow ({"version": 1, "nodes": [...]}) or a list of nodes');
  const bad = nodes.findIndex((n) => !n || typeof n !== 'object' || typeof n.type !== 'string');
  if (bad >= 0) return fail(`node ${bad + 1} has no type`);
  return nodes;
}
