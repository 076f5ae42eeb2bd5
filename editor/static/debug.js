// debug.js: the debug sidebar. Keeps the latest LIMIT messages (debug output, warnings,
// errors, and "N messages left out" when the server's rate limit dropped some), shows
// time, node, topic and text; filter by node or by the canvas selection; clear; pause.

import { h } from './util.js';

const LIMIT = 500;

export class DebugPanel {
  constructor(host, { nodeName, selection, reveal }) {
    this.items = []; // {kind, node, time, topic, text, count}
    this.known = new Set(); // node ids offered in the filter
    this.paused = false;
    this.pending = 0;
    this.nodeName = nodeName;
    this.selection = selection;
    this.reveal = reveal;
    this.filter = h('select', { 'aria-label': 'show messages from', 'data-testid': 'debug-filter', title: 'Show messages from' },
      h('option', { value: '*' }, 'all nodes'), h('option', { value: '@' }, 'selected nodes'));
    this.clearButton = h('button', { type: 'button', class: 'small', 'data-testid': 'debug-clear', title: 'Clear the messages', 'aria-label': 'clear messages' }, 'Clear');
    this.pauseButton = h('button', { type: 'button', class: 'small', 'data-testid': 'debug-pause', title: 'Pause the list', 'aria-label': 'pause', 'aria-pressed': 'false' }, 'Pause');
    this.list = h('div', { class: 'debug-list', 'data-testid': 'debug-list', role: 'log', 'aria-live': 'off' });
    this.empty = h('div', { class: 'debug-empty muted' }, 'Debug output, warnings and errors of the running flow appear here.');
    host.replaceChildren(h('div', { class: 'debug-bar' }, this.filter, h('span', { class: 'spacer' }), this.pauseButton, this.clearButton), this.empty, this.list);
    this.filter.addEventListener('focus', () => this.refreshFilter());
    this.filter.addEventListener('pointerdown', () => this.refreshFilter());
    this.filter.addEventListener('change', () => this.render());
    this.clearButton.addEventListener('click', () => this.clear());
    this.pauseButton.addEventListener('click', () => this.setPaused(!this.paused));
    this.list.addEventListener('click', (e) => {
      const link = e.target.closest('[data-reveal]');
      if (link) this.reveal(link.dataset.reveal);
    });
  }

  /** Events of a websocket frame: debug, warning, error, left-out. */
  add(events) {
    const fresh = [];
    for (const e of events) {
      if (e.kind === 'left-out') {
        const last = this.items[this.items.length - 1];
        if (last && last.kind === 'left-out' && last.node === e.node) { last.count += e.count; last.time = new Date(); this.updateLast(last); continue; }
        fresh.push({ kind: 'left-out', node: e.node, time: new Date(), count: e.count });
      } else {
        fresh.push({ kind: e.kind, node: e.node, time: new Date(), topic: e.topic, text: e.text, property: e.property });
      }
    }
    if (!fresh.length) return;
    if (fresh.some((i) => i.node && !this.known.has(i.node))) {
      for (const i of fresh) if (i.node) this.known.add(i.node);
      this.refreshFilter();
    }
    this.items.push(...fresh);
    const over = this.items.length - LIMIT;
    if (over > 0) this.items.splice(0, over);
    if (this.paused) { this.pending += fresh.length; this.pauseButton.textContent = `Resume (${this.pending} new)`; return; }
    this.append(fresh);
  }

  append(items) {
    const stick = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 30;
    const fragment = document.createDocumentFragment();
    for (const item of items) if (this.visible(item)) fragment.append(this.row(item));
    this.list.append(fragment);
    while (this.list.childElementCount > LIMIT) this.list.firstElementChild.remove();
    this.empty.hidden = this.items.length > 0;
    if (stick) this.list.scrollTop = this.list.scrollHeight;
  }

  updateLast(item) {
    if (this.paused) return;
    const el = this.list.lastElementChild;
    if (el && el.item === item) el.querySelector('.debug-text').textContent = leftOutText(item);
  }

  visible(item) {
    const f = this.filter.value;
    if (f === '*') return true;
    if (f === '@') return this.selection().includes(item.node);
    return item.node === f;
  }

  row(item) {
    const time = item.time.toTimeString().slice(0, 8) + '.' + String(item.time.getMilliseconds()).padStart(3, '0');
    const name = item.node ? this.nodeName(item.node) : 'flow';
    const meta = h('div', { class: 'debug-meta' },
      h('span', { class: 'debug-time' }, time),
      item.node ? h('a', { href: '#', class: 'debug-node', 'data-reveal': item.node, title: `show ${item.node} on the canvas`, onclick: (e) => e.preventDefault() }, name) : h('span', null, name),
      item.topic ? h('span', { class: 'debug-topic', title: 'topic' }, item.topic) : null,
      item.kind !== 'debug' ? h('span', { class: `debug-kind ${item.kind}` }, item.kind === 'left-out' ? 'rate limit' : item.kind) : null);
    const text = h('pre', { class: 'debug-text' }, item.kind === 'left-out' ? leftOutText(item) : item.text ?? '');
    const el = h('div', { class: `debug-item ${item.kind}`, 'data-testid': item.kind === 'left-out' ? 'debug-left-out' : 'debug-item', 'data-node': item.node || '', 'data-kind': item.kind }, meta, text);
    el.item = item;
    return el;
  }

  render() {
    const fragment = document.createDocumentFragment();
    for (const item of this.items) if (this.visible(item)) fragment.append(this.row(item));
    this.list.replaceChildren(fragment);
    this.empty.hidden = this.items.length > 0;
    this.list.scrollTop = this.list.scrollHeight;
  }

  /** The canvas selection changed: refilter if filtering by it. */
  selectionChanged() { if (this.filter.value === '@') this.render(); }

  refreshFilter() {
    const keep = this.filter.value;
    const ids = [...this.known].sort();
    if (keep !== '*' && keep !== '@' && !ids.includes(keep)) ids.push(keep);
    const options = [h('option', { value: '*' }, 'all nodes'), h('option', { value: '@' }, 'selected nodes')];
    for (const id of ids) options.push(h('option', { value: id }, this.nodeName(id) === id ? id : `${this.nodeName(id)} (${id})`));
    this.filter.replaceChildren(...options);
    this.filter.value = keep;
  }

  clear() {
    this.items = [];
    this.pending = 0;
    this.list.replaceChildren();
    this.empty.hidden = false;
    if (this.paused) this.pauseButton.textContent = 'Resume';
  }

  setPaused(paused) {
    this.paused = paused;
    this.pauseButton.setAttribute('aria-pressed', String(paused));
    this.pauseButton.textContent = paused ? 'Resume' : 'Pause';
    this.pauseButton.title = paused ? 'Show the messages again' : 'Pause the list';
    if (!paused && this.pending) { this.pending = 0; this.render(); }
  }
}

function leftOutText(item) {
  return `${item.count} message${item.count === 1 ? '' : 's'} left out by the rate limit (counted, not queued)`;
}
