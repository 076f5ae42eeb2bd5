// model.js: the flow being edited, its undo/redo history and what changed since the
// last deploy. Every change goes through a transaction, which records the state of each
// node it touched before and after; undo and redo replay those states. Listeners get a
// "change" event naming only the ids that changed, so the canvas redraws only those.

import { clone, stable, equal, MASK } from './util.js';
import { references, secretFields, isObject } from './schema.js';
import { OutputCounts } from './outputs.js';

export const HEAD = '\u0000flow'; // pseudo id of the flow's own fields (its name)
const HISTORY = 300;
const NODE_KEYS = ['id', 'type', 'name', 'disabled', 'config', 'wires', 'x', 'y'];

/** A node object with the canonical key order (id, type, name, disabled, config, wires, x, y). */
export function ordered(node) {
  const out = {};
  for (const key of NODE_KEYS) if (node[key] !== undefined) out[key] = node[key];
  for (const key of Object.keys(node)) if (!(key in out) && node[key] !== undefined) out[key] = node[key];
  return out;
}

/**
 * The wires of a node whose output ports are a list's rows, after the rows were added,
 * removed or moved: port i takes the wires of the row's port when the form opened
 * (`origins[i]`, null for a new row: none); ports after the rows move with them. With
 * `count`, no more ports than that. A new empty port at the end is left out, so an
 * unchanged list gives the same wires.
 */
export function remapWires(wires, ports, count = Infinity) {
  let next = ports ? [...ports.origins.map((o) => (o === null ? [] : [...(wires[o] || [])])), ...wires.slice(ports.before)]
    : wires.map((targets) => [...targets]);
  next = next.slice(0, count);
  while (next.length > wires.length && !next[next.length - 1].length) next.pop();
  return next;
}

export class Model extends EventTarget {
  constructor() {
    super();
    this.types = new Map();
    this.nodes = new Map(); // id -> node object as in the flow file
    this.order = new Map(); // id -> position in the file (kept across delete + undo)
    this.seq = 0;
    this.head = { version: 1 };
    this.etag = '';
    this.baseline = new Map(); // id -> stable text at the last load or deploy
    this.changed = new Set(); // ids (and HEAD) that differ from the baseline
    this.undoStack = [];
    this.redoStack = [];
    this.tx = null;
    this.counts = new OutputCounts(this); // each node's output ports (outputs.js)
    this.elsewhere = new Map(); // id -> {id, type, tab}: the other tabs' connections (tabs.js)
  }

  setTypes(list) { this.types = new Map(list.map((t) => [t.type, t])); }
  type(name) { return this.types.get(name); }
  get(id) { return this.nodes.get(id); }
  has(id) { return this.nodes.has(id); }
  /** Shared connections (config nodes) are not drawn on the canvas. */
  isShared(node) { const t = node && this.types.get(node.type); return !!(t && t.shared); }
  sharedOfType(type) { return [...this.nodes.values()].filter((n) => n.type === type); }
  /** A connection a reference may name: this tab's node, else another tab's {id, type, tab}. */
  connection(id) { return this.nodes.get(id) || this.elsewhere.get(id); }

  // --- load, serialise, deploy state -----------------------------------------------
  load(doc, etag) {
    const { nodes = [], version, ...head } = doc || {};
    this.head = { version: version ?? 1, ...head };
    this.nodes = new Map();
    this.order = new Map();
    this.seq = 0;
    for (const node of nodes) {
      if (!node || typeof node.id !== 'string' || this.nodes.has(node.id)) continue;
      this.nodes.set(node.id, clone(node));
      this.order.set(node.id, this.seq++);
    }
    this.undoStack = [];
    this.redoStack = [];
    this.markDeployed(etag, null, false);
    this.emit(new Set(this.nodes.keys()), 'load');
  }

  /** The flow document (or the nodes `ids` only), in file order. Do not mutate it. */
  toDocument(ids) {
    const list = ids ? [...ids].filter((id) => this.nodes.has(id)) : [...this.nodes.keys()];
    list.sort((a, b) => this.order.get(a) - this.order.get(b));
    const { version, name, ...rest } = this.head;
    const doc = { version: version ?? 1 };
    if (name !== undefined && !ids) doc.name = name;
    doc.nodes = list.map((id) => ordered(this.nodes.get(id)));
    return ids ? doc : Object.assign(doc, rest);
  }

  /** `sent` (a deep copy of the document deployed; default: the flow as it is now) is
   * on disk and running: it becomes the baseline the changed marks compare with. */
  markDeployed(etag, sent = null, notify = true) {
    this.etag = etag;
    const doc = sent || clone(this.toDocument());
    // Secrets come back masked from now on, as a reload would show them.
    for (const node of doc.nodes) {
      const type = this.types.get(node.type);
      if (!type || !isObject(node.config)) continue;
      const current = this.nodes.get(node.id);
      const live = current && isObject(current.config) ? new Map(secretFields(type.schema, current.config).map((f) => [f.pointer, f])) : new Map();
      for (const { pointer, holder, key } of secretFields(type.schema, node.config)) {
        const value = holder[key];
        if (value === MASK) continue;
        holder[key] = MASK;
        const shown = live.get(pointer);
        if (shown && equal(shown.holder[shown.key], value)) shown.holder[shown.key] = MASK;
      }
    }
    const { nodes, ...head } = doc;
    const ids = new Set([...this.changed, ...this.baseline.keys(), ...this.nodes.keys(), HEAD]);
    this.baseline = new Map(nodes.map((n) => [n.id, stable(n)]));
    this.baseline.set(HEAD, stable(head));
    this.changed.clear();
    this.refreshChanged(ids);
    if (notify) this.emit(ids, 'deployed');
  }

  headFields() { return { ...this.head }; }
  get changeCount() { return this.changed.size; }
  isChanged(id) { return this.changed.has(id); }

  // --- transactions ----------------------------------------------------------------
  begin(label, merge) {
    if (this.tx) { this.tx.depth += 1; return; }
    this.tx = { label, merge, before: new Map(), depth: 1 };
  }

  commit() {
    const tx = this.tx;
    if (!tx) return null;
    if (--tx.depth > 0) return null;
    this.tx = null;
    const before = new Map();
    const after = new Map();
    for (const [id, state] of tx.before) {
      const now = this.state(id);
      if (stable(now) === stable(state)) continue;
      before.set(id, state);
      after.set(id, clone(now));
    }
    if (!before.size) return null;
    const last = this.undoStack[this.undoStack.length - 1];
    const now = Date.now();
    if (tx.merge && last && last.merge === tx.merge && now - last.time < 1500 && !this.redoStack.length) {
      for (const [id, state] of before) if (!last.before.has(id)) last.before.set(id, state);
      for (const [id, state] of after) last.after.set(id, state);
      last.time = now;
    } else {
      this.undoStack.push({ label: tx.label, merge: tx.merge, time: now, before, after });
      if (this.undoStack.length > HISTORY) this.undoStack.shift();
    }
    this.redoStack = [];
    const ids = new Set(before.keys());
    this.refreshChanged(ids);
    this.emit(ids, 'edit');
    return ids;
  }

  /** Run fn as one undoable step; returns the ids changed (or null). */
  transaction(label, fn, merge) {
    this.begin(label, merge);
    try { fn(); } catch (error) { this.commit(); throw error; }
    return this.commit();
  }

  state(id) { return id === HEAD ? this.headFields() : (this.nodes.get(id) ?? null); }

  touch(id) {
    if (!this.tx) throw new Error('a model change outside a transaction');
    if (!this.tx.before.has(id)) this.tx.before.set(id, clone(this.state(id)));
  }

  undo() { return this.replay(this.undoStack, this.redoStack, 'before', 'undo'); }
  redo() { return this.replay(this.redoStack, this.undoStack, 'after', 'redo'); }

  replay(from, to, side, kind) {
    const entry = from.pop();
    if (!entry) return null;
    for (const [id, state] of entry[side]) {
      if (id === HEAD) this.head = clone(state);
      else if (state === null) this.nodes.delete(id);
      else {
        this.nodes.set(id, clone(state));
        if (!this.order.has(id)) this.order.set(id, this.seq++);
      }
    }
    entry.merge = null; // a replayed step never absorbs the next one
    to.push(entry);
    const ids = new Set(entry[side].keys());
    this.refreshChanged(ids);
    this.emit(ids, kind);
    return { label: entry.label, ids };
  }

  refreshChanged(ids) {
    for (const id of ids) {
      const now = this.state(id);
      const base = this.baseline.get(id);
      const same = now === null ? base === undefined : base === stable(now);
      if (same) this.changed.delete(id); else this.changed.add(id);
    }
  }

  emit(ids, kind) { this.dispatchEvent(new CustomEvent('change', { detail: { ids, kind } })); }

  // --- changes (inside a transaction) ------------------------------------------------
  add(node) {
    this.touch(node.id);
    if (!this.order.has(node.id)) this.order.set(node.id, this.seq++);
    this.nodes.set(node.id, ordered(node));
    return node;
  }

  /** Delete nodes and every wire into them. */
  remove(ids) {
    const gone = new Set([...ids].filter((id) => this.nodes.has(id)));
    if (!gone.size) return;
    for (const [id, node] of this.nodes) {
      if (gone.has(id) || !node.wires || !node.wires.some((p) => p.some((t) => gone.has(t)))) continue;
      this.touch(id);
      node.wires = node.wires.map((p) => p.filter((t) => !gone.has(t)));
    }
    for (const id of gone) { this.touch(id); this.nodes.delete(id); }
  }

  update(id, fn) {
    const node = this.nodes.get(id);
    if (!node) return;
    this.touch(id);
    fn(node);
  }

  /** Drop the wires from output ports a node no longer has (its count is `count`). */
  trimWires(id, count) {
    const node = this.nodes.get(id);
    if (!node || !node.wires || node.wires.length <= count) return;
    this.touch(id);
    node.wires = node.wires.slice(0, count);
  }

  /** Move each output port's wires with its list row (see remapWires). */
  remapPorts(id, ports) {
    const node = this.nodes.get(id);
    if (!node) return;
    const next = remapWires(node.wires || [], ports);
    if (equal(next, node.wires || [])) return;
    this.touch(id);
    node.wires = next;
  }

  move(id, x, y) {
    this.update(id, (n) => { n.x = Math.round(x); n.y = Math.round(y); });
  }

  connect(src, port, dst) {
    const node = this.nodes.get(src);
    if (!node || !this.nodes.has(dst) || src === dst) return false;
    if (node.wires && node.wires[port] && node.wires[port].includes(dst)) return false;
    this.touch(src);
    node.wires = node.wires || [];
    while (node.wires.length <= port) node.wires.push([]);
    node.wires[port].push(dst);
    return true;
  }

  disconnect(src, port, dst) {
    const node = this.nodes.get(src);
    if (!node || !node.wires || !node.wires[port]) return;
    this.touch(src);
    node.wires[port] = node.wires[port].filter((t) => t !== dst);
  }

  setFlowName(name) {
    this.touch(HEAD);
    if (name) this.head.name = name; else delete this.head.name;
  }

  /** Give a node a new id, rewriting wires and references to it. */
  rename(oldId, newId) {
    const node = this.nodes.get(oldId);
    if (!node || oldId === newId || this.nodes.has(newId)) return false;
    this.touch(oldId);
    this.touch(newId);
    this.nodes.delete(oldId);
    node.id = newId;
    this.nodes.set(newId, node);
    this.order.set(newId, this.order.get(oldId));
    for (const [id, other] of this.nodes) {
      const wired = other.wires && other.wires.some((p) => p.includes(oldId));
      const type = this.types.get(other.type);
      const refs = type ? references(type.schema, other.config).filter((r) => r.id === oldId) : [];
      if (!wired && !refs.length) continue;
      this.touch(id);
      if (wired) other.wires = other.wires.map((p) => p.map((t) => (t === oldId ? newId : t)));
      for (const ref of refs) ref.holder[ref.key] = newId;
    }
    return true;
  }

  /** A readable new id: the type and the next free counter, e.g. io-in-3. */
  newId(base, taken = new Set()) {
    const prefix = String(base).replace(/[^A-Za-z0-9_.:-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'node';
    const re = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`);
    let max = 0;
    for (const id of [...this.nodes.keys(), ...this.baseline.keys(), ...taken]) {
      const m = re.exec(id);
      if (m) max = Math.max(max, Number(m[1]));
    }
    return `${prefix}-${max + 1}`;
  }
}
