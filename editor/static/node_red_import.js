// node_red_import.js: the Import dialog's Node-RED side. It tells a pasted Node-RED export
// from portless nodes (a Node-RED node has keys a portless node never has: z, props,
// rules, ...), offers the conversion (POST /api/import/node-red, which writes nothing)
// and shows its report: converted by type, approximated, kept disabled, not converted.

import { importNodeRed } from './api.js';
import { h } from './util.js';

const PORTLESS_KEYS = new Set(['id', 'type', 'name', 'disabled', 'config', 'wires', 'x', 'y']);

/** The nodes of a Node-RED export (an array, or {flows: [...]}), else null. */
export function nodeRedNodes(text) {
  let data;
  try { data = JSON.parse(text); } catch { return null; }
  const nodes = Array.isArray(data) ? data
    : data && typeof data === 'object' && !('nodes' in data) && Array.isArray(data.flows) ? data.flows : null;
  if (!nodes || !nodes.length) return null;
  const foreign = nodes.some((n) => n && typeof n === 'object' && Object.keys(n).some((key) => !PORTLESS_KEYS.has(key)));
  return foreign ? nodes : null;
}

const plural = (count, word) => `${count} ${word}${count === 1 ? '' : 's'}`;

/** The offer and, once converted, the report; onImport(nodes) adds the converted nodes. */
export class NodeRedOffer {
  constructor(onImport) {
    this.onImport = onImport;
    this.nodes = null;
    this.note = h('p', { 'data-testid': 'node-red-detected' });
    this.convertButton = h('button', { type: 'button', class: 'primary', 'data-testid': 'node-red-convert' }, 'Convert from Node-RED');
    this.report = h('div', { class: 'node-red-report', 'data-testid': 'node-red-report', hidden: true });
    this.error = h('div', { class: 'field-error', role: 'alert', 'data-testid': 'node-red-error', hidden: true });
    this.el = h('div', { class: 'node-red-offer', 'data-testid': 'node-red-offer', hidden: true },
      this.note, h('div', null, this.convertButton), this.error, this.report);
    this.convertButton.addEventListener('click', () => this.convert());
  }

  /** Show the offer when the text is a Node-RED export; true if it is. */
  update(text) {
    const nodes = nodeRedNodes(text);
    this.text = text;
    this.el.hidden = !nodes;
    this.report.hidden = true;
    this.error.hidden = true;
    this.nodes = null;
    if (nodes) this.note.textContent = `This is a Node-RED export (${plural(nodes.length, 'node')}). portless converts it: JavaScript functions are kept disabled, what cannot be converted is left as a note.`;
    return Boolean(nodes);
  }

  async convert() {
    this.convertButton.disabled = true;
    this.error.hidden = true;
    try {
      const r = await importNodeRed(this.text);
      if (!r.ok) {
        const lines = r.data && (r.data.errors || [r.data.error]);
        throw new Error((lines || [`HTTP ${r.status}`]).join('\n'));
      }
      this.nodes = r.data.nodes;
      this.show(r.data.report);
    } catch (e) {
      this.error.hidden = false;
      this.error.textContent = e.message;
    } finally {
      this.convertButton.disabled = false;
    }
  }

  show(report) {
    const converted = Object.entries(report.converted);
    const total = converted.reduce((sum, [, count]) => sum + count, 0);
    const list = (title, entries, testid) => (entries.length ? [
      h('h3', null, `${title} (${entries.length})`),
      h('ul', { 'data-testid': testid }, entries.map((e) => h('li', null,
        h('code', null, e.type), e.name ? ` '${e.name}'` : '', e.id ? ` (${e.id})` : '', `: ${e.text}`))),
    ] : []);
    const importButton = h('button', { type: 'button', class: 'primary', 'data-testid': 'node-red-import' },
      `Import ${plural(this.nodes.length, 'node')}`);
    importButton.addEventListener('click', () => this.onImport(this.nodes));
    this.report.replaceChildren(
      h('p', { 'data-testid': 'node-red-summary' }, `${plural(total, 'node')} converted${report.complete ? ', everything' : ''}`
        + (converted.length ? `: ${converted.map(([type, count]) => `${count} ${type}`).join(', ')}` : '')),
      ...list('Approximated', report.approximated, 'node-red-approximated'),
      ...list('Kept disabled', report.kept_disabled, 'node-red-kept-disabled'),
      ...list('Not converted', report.not_converted, 'node-red-not-converted'),
      h('div', null, importButton),
    );
    this.report.hidden = false;
  }
}
