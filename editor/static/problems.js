// problems.js: what is wrong with each node: the client-side schema check (instant) and
// the server's POST /api/validate details (debounced after each change, authoritative).

import * as api from './api.js';
import { checkNode } from './schema.js';
import { debounce } from './util.js';

export class Problems {
  /** onChange(ids): the problems of these node ids changed (redraw their markers). */
  constructor(model, onChange) {
    this.model = model;
    this.onChange = onChange;
    this.client = new Map(); // id -> [{pointer, message}]
    this.server = new Map(); // id -> [{pointer, message}] from the last validation or deploy
    this.flow = []; // lines that name no node
    this.version = 0; // bumped at every model change, so a late answer is ignored
    this.schedule = debounce(() => this.validate(), 400);
    this.check = api.validate; // the server's check of the document (replaced while a subflow is open)
  }

  recheck(id) {
    const node = this.model.get(id);
    const errors = node ? checkNode(node, this.model) : [];
    if (errors.length) this.client.set(id, errors); else this.client.delete(id);
  }

  recheckAll() {
    this.client.clear();
    for (const id of this.model.nodes.keys()) this.recheck(id);
  }

  /** The problems of a node: the client's, then the server's for fields the client found fine. */
  of(id) {
    const out = [...(this.client.get(id) || [])];
    const seen = new Set(out.map((e) => e.pointer));
    for (const e of this.server.get(id) || []) if (!seen.has(e.pointer)) out.push(e);
    return out;
  }

  /** Client-side problems with the references of a node (for the form). */
  refErrors(node) {
    return checkNode(node, this.model).filter((e) => e.message.startsWith('refers to '));
  }

  changed(ids) {
    this.version += 1;
    for (const id of ids) this.server.delete(id); // stale until the next validation
  }

  async validate() {
    const version = this.version;
    let result;
    try { result = await this.check(this.model.toDocument()); } catch { return; }
    if (version !== this.version) return; // the flow changed meanwhile; another run is due
    this.applyServer(result.details || [], result.errors || []);
  }

  /** Replace the server's problems with a validation's or a failed deploy's details. */
  applyServer(details, lines = []) {
    const touched = new Set(this.server.keys());
    this.server = new Map();
    this.flow = [];
    details.forEach((d, i) => {
      if (d.node && this.model.has(d.node)) {
        if (!this.server.has(d.node)) this.server.set(d.node, []);
        this.server.get(d.node).push({ pointer: d.pointer || '', message: d.message });
        touched.add(d.node);
      } else this.flow.push(lines[i] || `${d.node ? `${d.node}: ` : ''}${d.pointer || ''} ${d.message}`);
    });
    this.onChange(touched);
  }
}
