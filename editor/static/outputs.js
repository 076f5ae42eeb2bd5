// outputs.js: how many output ports each node has. A type with a fixed count says it in
// /api/nodes; for a type whose outputs follow its config (a switch: one per rule) the
// page asks the server (POST /api/outputs, the type's own output_count) and never works
// it out itself. Answers are kept by type and config, so an undo finds its count at once;
// while an answer is missing, or the server cannot tell, a node keeps the count it had.

import * as api from './api.js';
import { stable } from './util.js';

const KEPT = 5000; // answers remembered before the memory starts afresh

export class OutputCounts extends EventTarget {
  constructor(model) {
    super();
    this.model = model;
    this.known = new Map(); // type + config text -> count
    this.failed = new Map(); // type + config text -> why the server cannot tell
    this.asking = new Set(); // keys of questions under way
    this.last = new Map(); // node id -> the count it was last drawn with
    this.unanswered = 'the server did not answer';
  }

  key(node) { return `${node.type}\u0001${stable(node.config ?? {})}`; }

  follows(node) { const t = this.model.type(node.type); return !!(t && t.outputs_from_config); }

  /** The ports to draw for a node now. */
  count(node) {
    const t = this.model.type(node.type);
    if (!t) return node.wires ? node.wires.length : 0;
    if (!t.outputs_from_config) return t.outputs;
    const count = this.known.get(this.key(node)) ?? this.last.get(node.id)
      ?? Math.max(t.outputs, node.wires ? node.wires.length : 0); // a guess until the answer
    this.last.set(node.id, count);
    return count;
  }

  /** Why the server cannot tell this node's count (or ''). */
  problem(node) { return this.follows(node) ? this.failed.get(this.key(node)) || '' : ''; }

  /** Ask for the counts of these nodes' configs not known yet; a "change" event names
   * the nodes whose count the answer changed. */
  async refresh(ids) {
    const nodes = [...ids].map((id) => this.model.get(id)).filter((n) => n && this.follows(n)
      && !this.known.has(this.key(n)) && !this.failed.has(this.key(n)) && !this.asking.has(this.key(n)));
    if (!nodes.length) return;
    const before = new Map(nodes.map((n) => [n.id, this.count(n)]));
    await this.ask(nodes);
    const changed = new Set();
    for (const [id, count] of before) {
      const node = this.model.get(id);
      if (node && this.count(node) !== count) changed.add(id);
    }
    if (changed.size) this.dispatchEvent(new CustomEvent('change', { detail: changed }));
  }

  /** The count of one node with its config: {count} or {error} (a sentence). */
  async of(node) {
    if (!this.follows(node)) return { count: this.count(node) };
    const key = this.key(node);
    if (!this.known.has(key)) await this.ask([node]);
    if (this.known.has(key)) return { count: this.known.get(key) };
    return { error: this.failed.get(key) || this.unanswered };
  }

  async ask(nodes) {
    const keys = nodes.map((n) => this.key(n));
    keys.forEach((k) => this.asking.add(k));
    try {
      const answer = await api.countOutputs(nodes.map((n) => ({ id: n.id, type: n.type, config: n.config ?? {} })));
      if (this.known.size > KEPT) { this.known.clear(); this.failed.clear(); }
      nodes.forEach((n, i) => {
        if (Object.hasOwn(answer.outputs, n.id)) this.known.set(keys[i], answer.outputs[n.id]);
        else this.failed.set(keys[i], answer.errors[n.id] || 'no count for this node');
      });
    } catch (error) {
      // Not remembered: the next change asks again (the runtime may be back).
      this.unanswered = `the server did not answer: ${error.message}`;
    } finally {
      keys.forEach((k) => this.asking.delete(k));
    }
  }
}
