// canvas.js: the SVG workspace. Builds the nodes and wires once, then touches only
// what changed: a model change redraws the named nodes and their wires; dragging moves
// only the dragged nodes' <g> transforms and recomputes only the wires attached to them
// (per-node wire lists), so a frame costs the same with 8 nodes or 800.

import { s, clamp } from './util.js';

const GRID = 20;
const MIN_WIDTH = 100;
const PORT_GAP = 15;
const LABEL_FONT = '13px Helvetica, Arial, sans-serif';
const FILLS = { red: '#d6413b', green: '#5a9e5a', yellow: '#f0c419', blue: '#4a90d9', grey: '#a0a0a0' };
const ZOOM_MIN = 0.2;
const ZOOM_MAX = 2;

export class Canvas extends EventTarget {
  constructor(host, model) {
    super();
    this.host = host; // the scrolling container
    this.model = model;
    this.scale = 1;
    this.size = { w: 4000, h: 3000 };
    this.views = new Map(); // id -> {id, g, x, y, w, h, inputs, outputs, sig, ...}
    this.outWires = new Map(); // source id -> Map(key -> wire)
    this.inWires = new Map(); // target id -> Set(wire)
    this.selection = new Set();
    this.selectedWire = null;
    this.statuses = new Map();
    this.invalid = new Map();
    this.changed = new Set();
    this.icons = new Map();
    this.previews = new Map(); // id -> {count, wires}: a node drawn as its open form has it
    this.perf = []; // ms spent per drag move, for the benchmark
    this.spaceHeld = false;
    this.lastPoint = null;
    this.ctx = document.createElement('canvas').getContext('2d');
    this.ctx.font = LABEL_FONT;

    this.svg = s('svg', { class: 'canvas', 'data-testid': 'canvas', role: 'application', 'aria-label': 'flow canvas' });
    this.root = s('g', { class: 'viewport' });
    this.wireLayer = s('g', { class: 'wires' });
    this.nodeLayer = s('g', { class: 'nodes' });
    this.root.append(this.wireLayer, this.nodeLayer);
    this.svg.append(this.root);
    // During a drag the big SVG stays untouched (repainting it costs ~10 ms a frame at
    // 800 nodes). The dragged nodes, and the wires between them, move to `layer`, an SVG
    // on its own compositor layer shifted by a CSS transform: no repaint at all. Wires
    // from a dragged node to a still one go to `top`, the only thing redrawn per frame;
    // `top` also holds the lasso and a wire being drawn, and shields the big SVG from
    // hit tests while dragging.
    this.layerSvg = s('svg', { 'aria-hidden': 'true' });
    this.layerRoot = s('g', { class: 'viewport' });
    this.layerWires = s('g', { class: 'wires' });
    this.layerNodes = s('g', { class: 'nodes' });
    this.layerRoot.append(this.layerWires, this.layerNodes);
    this.layerSvg.append(this.layerRoot);
    this.layer = document.createElement('div');
    this.layer.className = 'drag-layer';
    this.layer.append(this.layerSvg);
    this.top = s('svg', { class: 'drag-layer top', 'aria-hidden': 'true' });
    this.topRoot = s('g', { class: 'viewport' });
    this.topWires = s('g', { class: 'wires' });
    this.overlay = s('g', { class: 'overlay' });
    this.topRoot.append(this.topWires, this.overlay);
    this.top.append(this.topRoot);
    // A clipped box around both, so a layer moving past the edge never changes the
    // scrollable area (which would repaint the whole workspace).
    this.layers = document.createElement('div');
    this.layers.className = 'layers';
    this.layers.append(this.layer, this.top);
    host.append(this.svg, this.layers);
    this.applySize();
    this.bind();
  }

  emit(name, detail) { this.dispatchEvent(new CustomEvent(name, { detail })); }

  // --- geometry --------------------------------------------------------------------
  label(node) { return node.name || node.type; }

  signature(node) {
    const t = this.model.type(node.type);
    return [node.type, this.label(node), t ? t.inputs : 1, this.outputCount(node), !!t, !!node.disabled].join('\u0001');
  }

  outputCount(node) {
    const preview = this.previews.get(node.id);
    return preview ? preview.count : this.model.counts.count(node);
  }

  wiresOfNode(node) {
    const preview = this.previews.get(node.id);
    return (preview ? preview.wires : node.wires) || [];
  }

  /** Draw a node with the ports and wires its open form would give it (null: as the
   * model has them again). */
  preview(id, outputs) {
    if (outputs) this.previews.set(id, outputs);
    else if (!this.previews.delete(id)) return;
    if (this.views.has(id)) this.applyChange([id]);
  }

  portY(view, port) { return view.h / 2 + (port - (view.outputs - 1) / 2) * PORT_GAP; }

  injectable(type) {
    return !!type && type.inputs === 0 && !type.shared &&
      (type.type === 'io-in' || type.category === 'input' || type.schema['x-inject'] === true);
  }

  iconId(name) {
    if (!this.icons.has(name)) this.icons.set(name, document.getElementById(`icon-${name}`) ? `#icon-${name}` : '#icon-node');
    return this.icons.get(name);
  }

  /** Size of a node drawn for this type and label (no DOM read: canvas text metrics). */
  measure(node) {
    const t = this.model.type(node.type);
    const label = this.label(node);
    const outputs = this.outputCount(node);
    const w = Math.max(MIN_WIDTH, Math.ceil((this.ctx.measureText(label).width + 50) / GRID) * GRID);
    const h = Math.max(30, outputs * PORT_GAP + 15);
    return { w, h, label, outputs, inputs: t ? t.inputs : 1, type: t };
  }

  // --- building --------------------------------------------------------------------
  buildNode(node) {
    const m = this.measure(node);
    const id = node.id;
    const x = Math.round(node.x || 0);
    const y = Math.round(node.y || 0);
    const g = s('g', {
      class: `node${m.type ? '' : ' unknown'}${node.disabled ? ' disabled' : ''}${this.selection.has(id) ? ' selected' : ''}`,
      'data-node-id': id, 'data-testid': `node-${id}`, transform: `translate(${x},${y})`,
    });
    g.append(
      s('title', { text: `${m.label}\n${node.type} \u00b7 ${id}${node.disabled ? ' \u00b7 disabled: not run' : ''}` }),
      s('rect', { class: 'bg', width: m.w, height: m.h, rx: 5, fill: m.type ? m.type.color : '#e0e0e0' }),
      s('path', { class: 'icon-bg', d: `M5 0H30V${m.h}H5A5 5 0 0 1 0 ${m.h - 5}V5A5 5 0 0 1 5 0Z` }),
      s('use', { class: 'icon', href: this.iconId(m.type ? m.type.icon : 'node'), x: 7, y: m.h / 2 - 8, width: 16, height: 16 }),
      s('text', { class: 'label', x: 38, y: m.h / 2 + 4.5 }, m.label),
      // The outline on top takes the pointer, so the whole node is one target.
      s('rect', { class: 'body', width: m.w, height: m.h, rx: 5 }),
    );
    const view = { id, g, x, y, w: m.w, h: m.h, inputs: m.inputs, outputs: m.outputs, sig: this.signature(node) };
    if (m.inputs > 0) {
      g.append(s('rect', { class: 'port', 'data-port': 'in', x: -5, y: m.h / 2 - 5, width: 10, height: 10, rx: 3 }));
    }
    for (let i = 0; i < m.outputs; i++) {
      g.append(s('rect', { class: 'port', 'data-port': `out-${i}`, x: m.w - 5, y: this.portY(view, i) - 5, width: 10, height: 10, rx: 3 }));
    }
    if (this.injectable(m.type)) {
      g.append(s('g', { class: 'inject', 'data-action': 'inject', 'data-testid': `inject-${id}`, role: 'button', 'aria-label': `inject ${m.label}` },
        s('title', { text: 'Read now (inject)' }),
        s('rect', { x: -22, y: m.h / 2 - 10, width: 18, height: 20, rx: 4 }),
        s('path', { d: `M-16 ${m.h / 2 - 5}l6 5l-6 5z` })));
    }
    this.views.set(id, view);
    this.drawStatus(view);
    this.drawMarkers(view);
    return g;
  }

  makeWire(src, port, dst) {
    const key = `${src}\u0001${port}\u0001${dst}`;
    const g = s('g', { class: 'link', 'data-wire-from': src, 'data-wire-port': port, 'data-wire-to': dst });
    const hit = s('path', { class: 'wire-hit' });
    const path = s('path', { class: 'wire' });
    g.append(hit, path);
    const wire = { key, src, port, dst, g, hit, path };
    if (!this.inWires.has(dst)) this.inWires.set(dst, new Set());
    this.inWires.get(dst).add(wire);
    return wire;
  }

  wirePath(wire) {
    const a = this.views.get(wire.src);
    const b = this.views.get(wire.dst);
    return this.curve(a.x + a.w, a.y + this.portY(a, wire.port), b.x, b.y + b.h / 2);
  }

  curve(sx, sy, tx, ty) {
    const dx = tx - sx;
    const d = dx >= 0 ? Math.max(30, dx / 2) : Math.min(160, 50 + Math.abs(dx) / 4 + Math.abs(ty - sy) / 4);
    return `M${sx} ${sy}C${sx + d} ${sy} ${tx - d} ${ty} ${tx} ${ty}`;
  }

  updateWire(wire) {
    const d = this.wirePath(wire);
    wire.path.setAttribute('d', d);
    wire.hit.setAttribute('d', d);
  }

  /** Rebuild the outgoing wires of one node from the model (a diff, not a redraw). */
  syncOut(id) {
    const old = this.outWires.get(id) || new Map();
    const next = new Map();
    const node = this.model.get(id);
    if (node && this.views.has(id)) {
      this.wiresOfNode(node).forEach((targets, port) => (targets || []).forEach((dst) => {
        if (!this.views.has(dst)) return;
        const key = `${id}\u0001${port}\u0001${dst}`;
        let wire = old.get(key);
        if (wire) old.delete(key);
        else { wire = this.makeWire(id, port, dst); this.wireLayer.append(wire.g); }
        next.set(key, wire);
      }));
    }
    for (const wire of old.values()) this.dropWire(wire);
    if (next.size) this.outWires.set(id, next); else this.outWires.delete(id);
  }

  dropWire(wire) {
    wire.g.remove();
    const incoming = this.inWires.get(wire.dst);
    if (incoming) incoming.delete(wire);
    if (this.selectedWire === wire) this.selectedWire = null;
  }

  wiresOf(id, into = new Set()) {
    const out = this.outWires.get(id);
    if (out) for (const w of out.values()) into.add(w);
    const incoming = this.inWires.get(id);
    if (incoming) for (const w of incoming) into.add(w);
    return into;
  }

  renderAll() {
    this.views.clear();
    this.outWires.clear();
    this.inWires.clear();
    this.selectedWire = null;
    const nodes = document.createDocumentFragment();
    for (const node of this.model.nodes.values()) {
      if (!this.model.isShared(node)) nodes.append(this.buildNode(node));
    }
    this.nodeLayer.replaceChildren(nodes);
    this.wireLayer.replaceChildren();
    const wires = document.createDocumentFragment();
    for (const id of this.views.keys()) {
      this.syncOutInto(id, wires);
    }
    this.wireLayer.append(wires);
    for (const map of this.outWires.values()) for (const w of map.values()) this.updateWire(w);
    for (const id of [...this.selection]) if (!this.views.has(id)) this.selection.delete(id);
    this.fitSize();
    this.selectionChanged();
  }

  syncOutInto(id, fragment) {
    const node = this.model.get(id);
    const next = new Map();
    this.wiresOfNode(node).forEach((targets, port) => (targets || []).forEach((dst) => {
      if (!this.views.has(dst)) return;
      const wire = this.makeWire(id, port, dst);
      fragment.append(wire.g);
      next.set(wire.key, wire);
    }));
    if (next.size) this.outWires.set(id, next);
  }

  removeNode(id) {
    const view = this.views.get(id);
    if (!view) return;
    view.g.remove();
    this.views.delete(id);
    const out = this.outWires.get(id);
    if (out) for (const w of out.values()) this.dropWire(w);
    this.outWires.delete(id);
    const incoming = this.inWires.get(id);
    if (incoming) {
      for (const w of [...incoming]) { this.dropWire(w); const o = this.outWires.get(w.src); if (o) o.delete(w.key); }
    }
    this.inWires.delete(id);
    if (this.selection.delete(id)) this.selectionChanged();
  }

  /** Redraw only the nodes a model change named, and the wires touching them. */
  applyChange(ids) {
    const touched = new Set();
    for (const id of ids) {
      const node = this.model.get(id);
      const view = this.views.get(id);
      if (!node || this.model.isShared(node)) { if (view) this.removeNode(id); continue; }
      touched.add(id);
      if (!view) this.nodeLayer.append(this.buildNode(node));
      else if (view.sig !== this.signature(node)) {
        const old = view.g;
        old.replaceWith(this.buildNode(node));
      } else if (view.x !== Math.round(node.x || 0) || view.y !== Math.round(node.y || 0)) {
        view.x = Math.round(node.x || 0);
        view.y = Math.round(node.y || 0);
        view.g.setAttribute('transform', `translate(${view.x},${view.y})`);
      }
    }
    for (const id of touched) this.syncOut(id);
    const wires = new Set();
    for (const id of touched) this.wiresOf(id, wires);
    for (const w of wires) this.updateWire(w);
    this.fitSize();
  }

  // --- live state: status, markers, selection ---------------------------------------
  setStatus(id, status) {
    if (status && (status.fill || status.text)) this.statuses.set(id, status); else this.statuses.delete(id);
    const view = this.views.get(id);
    if (view) this.drawStatus(view);
  }

  drawStatus(view) {
    const status = this.statuses.get(view.id);
    if (!view.status) {
      if (!status) return;
      const dot = s('rect', { class: 'status-dot', x: 0, y: 0, width: 9, height: 9, rx: 2 });
      const text = s('text', { class: 'status-text', x: 14, y: 8.5, 'data-testid': `status-${view.id}` });
      const g = s('g', { class: 'status', transform: `translate(2,${view.h + 5})` }, dot, text);
      view.status = { g, dot, text };
      view.g.append(g);
    }
    const { g, dot, text } = view.status;
    g.setAttribute('data-fill', status && status.fill ? status.fill : '');
    g.setAttribute('data-shape', status && status.shape ? status.shape : 'dot');
    text.textContent = status ? status.text || '' : '';
    g.style.display = status ? '' : 'none';
    if (status && status.fill) {
      const color = FILLS[status.fill] || status.fill;
      dot.style.display = '';
      dot.setAttribute('fill', status.shape === 'ring' ? '#fff' : color);
      dot.setAttribute('stroke', color);
      text.setAttribute('x', 14);
    } else {
      dot.style.display = 'none';
      text.setAttribute('x', 0);
    }
  }

  setInvalid(id, messages) {
    if (messages && messages.length) this.invalid.set(id, messages); else this.invalid.delete(id);
    const view = this.views.get(id);
    if (view) this.drawMarkers(view);
  }

  setChanged(id, changed) {
    if (changed) this.changed.add(id); else this.changed.delete(id);
    const view = this.views.get(id);
    if (view) this.drawMarkers(view);
  }

  drawMarkers(view) {
    const changed = this.changed.has(view.id);
    if (changed && !view.changedMark) {
      view.changedMark = s('circle', { class: 'changed-marker', 'data-testid': `changed-${view.id}`, cx: view.w - 9, cy: 0, r: 4.5 },
        s('title', { text: 'changed since the last deploy' }));
      view.g.append(view.changedMark);
    } else if (!changed && view.changedMark) { view.changedMark.remove(); view.changedMark = null; }
    const problems = this.invalid.get(view.id);
    if (problems && !view.invalidMark) {
      view.invalidMark = s('g', { class: 'invalid-marker', 'data-testid': `invalid-${view.id}`, transform: `translate(${view.w - 26},-6)` },
        s('title'), s('path', { d: 'M6 0L12 11H0Z' }), s('text', { x: 6, y: 10 }, '!'));
      view.g.append(view.invalidMark);
    } else if (!problems && view.invalidMark) { view.invalidMark.remove(); view.invalidMark = null; }
    if (problems) view.invalidMark.firstChild.textContent = problems.join('\n');
  }

  setSelection(ids) {
    const next = new Set([...ids].filter((id) => this.views.has(id)));
    for (const id of this.selection) if (!next.has(id)) this.views.get(id)?.g.classList.remove('selected');
    for (const id of next) if (!this.selection.has(id)) this.views.get(id).g.classList.add('selected');
    this.selection = next;
    if (next.size) this.selectWire(null);
    this.selectionChanged();
  }

  addToSelection(ids) { this.setSelection([...this.selection, ...ids]); }
  removeFromSelection(id) { const next = new Set(this.selection); next.delete(id); this.setSelection(next); }
  selectionChanged() { this.emit('selection', [...this.selection]); }

  selectWire(wire) {
    if (this.selectedWire) this.selectedWire.g.classList.remove('selected');
    this.selectedWire = wire;
    if (wire) wire.g.classList.add('selected');
  }

  // --- viewport --------------------------------------------------------------------
  applySize() {
    this.svg.setAttribute('width', Math.round(this.size.w * this.scale));
    this.svg.setAttribute('height', Math.round(this.size.h * this.scale));
    this.root.setAttribute('transform', `scale(${this.scale})`);
    this.layers.style.width = `${Math.round(this.size.w * this.scale)}px`;
    this.layers.style.height = `${Math.round(this.size.h * this.scale)}px`;
    for (const [svg, root] of [[this.layerSvg, this.layerRoot], [this.top, this.topRoot]]) {
      svg.setAttribute('width', Math.round(this.size.w * this.scale));
      svg.setAttribute('height', Math.round(this.size.h * this.scale));
      root.setAttribute('transform', `scale(${this.scale})`);
    }
    this.svg.style.backgroundSize = `${GRID * this.scale}px ${GRID * this.scale}px`;
  }

  fitSize() {
    let w = 4000;
    let h = 3000;
    for (const v of this.views.values()) {
      if (v.x + v.w + 800 > w) w = v.x + v.w + 800;
      if (v.y + v.h + 600 > h) h = v.y + v.h + 600;
    }
    w = Math.ceil(w / 500) * 500;
    h = Math.ceil(h / 500) * 500;
    if (w > this.size.w || h > this.size.h) {
      this.size = { w: Math.max(w, this.size.w), h: Math.max(h, this.size.h) };
      this.applySize();
    }
  }

  /** The canvas point under a client (window) position. */
  toCanvas(clientX, clientY) {
    const r = this.host.getBoundingClientRect();
    return { x: (clientX - r.left + this.host.scrollLeft) / this.scale, y: (clientY - r.top + this.host.scrollTop) / this.scale };
  }

  containsClient(x, y) {
    const r = this.host.getBoundingClientRect();
    return x >= r.left && x <= r.right && y >= r.top && y <= r.bottom;
  }

  /** Top-left of the visible area in canvas units, with a margin. */
  visibleOrigin() {
    return { x: Math.round(this.host.scrollLeft / this.scale + 60), y: Math.round(this.host.scrollTop / this.scale + 60) };
  }

  zoomTo(scale, clientX, clientY) {
    scale = clamp(Math.round(scale * 100) / 100, ZOOM_MIN, ZOOM_MAX);
    if (scale === this.scale) return;
    const r = this.host.getBoundingClientRect();
    const ox = clientX === undefined ? this.host.clientWidth / 2 : clientX - r.left;
    const oy = clientY === undefined ? this.host.clientHeight / 2 : clientY - r.top;
    const cx = (this.host.scrollLeft + ox) / this.scale;
    const cy = (this.host.scrollTop + oy) / this.scale;
    this.scale = scale;
    this.applySize();
    this.host.scrollLeft = cx * scale - ox;
    this.host.scrollTop = cy * scale - oy;
    this.emit('zoom', scale);
  }

  /** Scroll a node into the middle of the view. */
  reveal(id) {
    const v = this.views.get(id);
    if (!v) return;
    this.host.scrollLeft = (v.x + v.w / 2) * this.scale - this.host.clientWidth / 2;
    this.host.scrollTop = (v.y + v.h / 2) * this.scale - this.host.clientHeight / 2;
    v.g.classList.add('flash');
    setTimeout(() => v.g.classList.remove('flash'), 900);
  }

  // --- interaction -----------------------------------------------------------------
  bind() {
    this.svg.addEventListener('pointerdown', (e) => this.down(e));
    this.svg.addEventListener('dblclick', (e) => {
      const g = e.target.closest('g[data-node-id]');
      if (g && !e.target.closest('[data-action]')) this.emit('edit', g.dataset.nodeId);
    });
    this.host.addEventListener('wheel', (e) => {
      if (!(e.ctrlKey || e.metaKey)) return; // a plain wheel scrolls (pans) natively
      e.preventDefault();
      this.zoomTo(this.scale * Math.exp(-e.deltaY * 0.0015), e.clientX, e.clientY);
    }, { passive: false });
    this.host.addEventListener('pointermove', (e) => { this.lastPoint = { x: e.clientX, y: e.clientY }; }, { passive: true });
    this.host.addEventListener('pointerleave', () => { this.lastPoint = null; });
    window.addEventListener('keydown', (e) => {
      if (e.key !== ' ' || e.repeat || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(e.target.tagName || '') || document.querySelector('.tray, .modal')) return;
      this.spaceHeld = true;
      this.host.classList.add('pan-ready');
      e.preventDefault();
    });
    window.addEventListener('keyup', (e) => {
      if (e.key !== ' ') return;
      this.spaceHeld = false;
      this.host.classList.remove('pan-ready');
    });
    window.addEventListener('blur', () => { this.spaceHeld = false; this.host.classList.remove('pan-ready'); });
  }

  /** Follow the pointer until the button is released. */
  drag(onMove, onUp) {
    const move = (e) => onMove(e);
    const up = (e) => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      window.removeEventListener('pointercancel', up);
      this.svg.classList.remove('dragging');
      onUp(e);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
    window.addEventListener('pointercancel', up);
  }

  down(e) {
    this.host.focus({ preventScroll: true });
    if (e.button === 1 || (e.button === 0 && this.spaceHeld)) { e.preventDefault(); this.startPan(e); return; }
    if (e.button !== 0) return;
    const g = e.target.closest('g[data-node-id]');
    const id = g && g.dataset.nodeId;
    if (e.target.closest('[data-action="inject"]')) { e.preventDefault(); this.emit('inject', id); return; }
    const port = e.target.closest('[data-port]');
    if (port && g) { e.preventDefault(); this.startWire(e, id, port.dataset.port); return; }
    const link = e.target.closest('g[data-wire-from]');
    if (link) {
      const wire = this.outWires.get(link.dataset.wireFrom)?.get(`${link.dataset.wireFrom}\u0001${link.dataset.wirePort}\u0001${link.dataset.wireTo}`);
      this.setSelection([]);
      this.selectWire(wire || null);
      return;
    }
    if (g) { e.preventDefault(); this.startMove(e, id); return; }
    e.preventDefault();
    this.startLasso(e);
  }

  startPan(e) {
    const x0 = e.clientX;
    const y0 = e.clientY;
    const left = this.host.scrollLeft;
    const top = this.host.scrollTop;
    this.host.classList.add('panning');
    this.drag((ev) => {
      this.host.scrollLeft = left - (ev.clientX - x0);
      this.host.scrollTop = top - (ev.clientY - y0);
    }, () => this.host.classList.remove('panning'));
  }

  startMove(e, id) {
    const shift = e.shiftKey || e.ctrlKey || e.metaKey;
    const wasSelected = this.selection.has(id);
    if (shift && !wasSelected) this.addToSelection([id]);
    else if (!shift && !wasSelected) this.setSelection([id]);
    const x0 = e.clientX;
    const y0 = e.clientY;
    let moving = null;
    this.drag((ev) => {
      if (!moving) {
        if (Math.abs(ev.clientX - x0) + Math.abs(ev.clientY - y0) < 4) return;
        moving = this.beginMove();
      }
      const t0 = performance.now();
      this.moveBy(moving, (ev.clientX - x0) / this.scale, (ev.clientY - y0) / this.scale);
      this.perf.push(performance.now() - t0);
      if (this.perf.length > 2000) this.perf.splice(0, 1000);
    }, () => {
      if (moving) this.endMove(moving);
      else if (shift && wasSelected) this.removeFromSelection(id);
      else if (!shift && wasSelected && this.selection.size > 1) this.setSelection([id]);
    });
  }

  beginMove() {
    const items = [...this.selection].map((id) => this.views.get(id)).filter(Boolean).map((v) => ({ v, x0: v.x, y0: v.y }));
    const ids = new Set(items.map(({ v }) => v.id));
    const wires = new Set();
    for (const { v } of items) this.wiresOf(v.id, wires);
    const inner = [...wires].filter((w) => ids.has(w.src) && ids.has(w.dst));
    const outer = [...wires].filter((w) => !(ids.has(w.src) && ids.has(w.dst)));
    this.svg.classList.add('dragging');
    this.layer.classList.add('active');
    this.top.classList.add('active', 'shield');
    for (const w of inner) this.layerWires.append(w.g);
    for (const w of outer) this.topWires.append(w.g);
    for (const { v } of items) this.layerNodes.append(v.g);
    const minX = Math.min(...items.map((i) => i.x0));
    const minY = Math.min(...items.map((i) => i.y0));
    return { items, inner, outer, minX, minY };
  }

  moveBy(moving, dx, dy) {
    // The selection moves as one block and stops at the top and left edges.
    dx = Math.max(-moving.minX, Math.round(dx));
    dy = Math.max(-moving.minY, Math.round(dy));
    for (const item of moving.items) { item.v.x = item.x0 + dx; item.v.y = item.y0 + dy; }
    this.layer.style.transform = `translate(${dx * this.scale}px,${dy * this.scale}px)`;
    for (const w of moving.outer) this.updateWire(w);
  }

  endMove(moving) {
    for (const { v } of moving.items) {
      v.g.setAttribute('transform', `translate(${v.x},${v.y})`);
      this.nodeLayer.append(v.g);
    }
    for (const w of [...moving.inner, ...moving.outer]) { this.updateWire(w); this.wireLayer.append(w.g); }
    this.layer.style.transform = '';
    this.layer.classList.remove('active');
    this.top.classList.remove('active', 'shield');
    this.model.transaction('move', () => {
      for (const { v } of moving.items) this.model.move(v.id, v.x, v.y);
    });
  }

  /** Move the selection by the arrow keys; consecutive presses are one undo step. */
  nudge(dx, dy) {
    const items = [...this.selection].map((id) => this.model.get(id)).filter(Boolean);
    if (!items.length) return false;
    this.model.transaction('move', () => {
      for (const n of items) this.model.move(n.id, Math.max(0, (n.x || 0) + dx), Math.max(0, (n.y || 0) + dy));
    }, `nudge:${[...this.selection].join(',')}`);
    return true;
  }

  startWire(e, id, portName) {
    const view = this.views.get(id);
    const fromOut = portName.startsWith('out-');
    const port = fromOut ? Number(portName.slice(4)) : 0;
    const ax = fromOut ? view.x + view.w : view.x;
    const ay = fromOut ? view.y + this.portY(view, port) : view.y + view.h / 2;
    const temp = s('path', { class: 'wire drag-wire' });
    this.overlay.append(temp);
    this.top.classList.add('active');
    this.svg.classList.add('wiring');
    this.drag((ev) => {
      const p = this.toCanvas(ev.clientX, ev.clientY);
      temp.setAttribute('d', fromOut ? this.curve(ax, ay, p.x, p.y) : this.curve(p.x, p.y, ax, ay));
    }, (ev) => {
      temp.remove();
      this.top.classList.remove('active');
      this.svg.classList.remove('wiring');
      const el = document.elementFromPoint(ev.clientX, ev.clientY);
      const g = el && el.closest && el.closest('g[data-node-id]');
      if (!g || g.dataset.nodeId === id) return;
      const other = this.views.get(g.dataset.nodeId);
      if (!other) return;
      if (fromOut) {
        if (other.inputs > 0) this.model.transaction('wire', () => this.model.connect(id, port, other.id));
      } else {
        const target = el.closest('[data-port^="out-"]');
        const outPort = target ? Number(target.dataset.port.slice(4)) : (other.outputs === 1 ? 0 : -1);
        if (outPort >= 0 && view.inputs > 0) this.model.transaction('wire', () => this.model.connect(other.id, outPort, id));
      }
    });
  }

  startLasso(e) {
    const additive = e.shiftKey || e.ctrlKey || e.metaKey;
    const p0 = this.toCanvas(e.clientX, e.clientY);
    const box = s('rect', { class: 'lasso', 'data-testid': 'lasso' });
    let moved = false;
    let rect = null;
    this.drag((ev) => {
      const p = this.toCanvas(ev.clientX, ev.clientY);
      if (!moved) {
        if (Math.abs(ev.clientX - e.clientX) + Math.abs(ev.clientY - e.clientY) < 4) return;
        moved = true;
        this.top.classList.add('active');
        this.overlay.append(box);
      }
      rect = { x: Math.min(p0.x, p.x), y: Math.min(p0.y, p.y), w: Math.abs(p.x - p0.x), h: Math.abs(p.y - p0.y) };
      box.setAttribute('x', rect.x);
      box.setAttribute('y', rect.y);
      box.setAttribute('width', rect.w);
      box.setAttribute('height', rect.h);
    }, () => {
      box.remove();
      this.top.classList.remove('active');
      if (!moved) {
        this.selectWire(null);
        if (!additive && this.selection.size) this.setSelection([]);
        this.emit('background-click');
        return;
      }
      const hits = [];
      for (const v of this.views.values()) {
        if (v.x < rect.x + rect.w && v.x + v.w > rect.x && v.y < rect.y + rect.h && v.y + v.h > rect.y) hits.push(v.id);
      }
      this.setSelection(additive ? [...this.selection, ...hits] : hits);
    });
  }
}
