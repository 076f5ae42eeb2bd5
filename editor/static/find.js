// find.js: Ctrl+F: a search box over the canvas that selects and centres the nodes whose
// id, name or type match; Enter goes to the next match, Shift+Enter back, Escape closes.

import { h } from './util.js';

export class Finder {
  constructor(model, canvas, host) {
    this.model = model;
    this.canvas = canvas;
    this.host = host;
    this.box = null;
  }

  open() {
    if (this.box) { this.input.focus(); this.input.select(); return; }
    const input = h('input', { type: 'search', placeholder: 'find a node (id, name, type)', 'data-testid': 'find-input', 'aria-label': 'find a node' });
    const count = h('span', { class: 'find-count', 'data-testid': 'find-count', 'aria-live': 'polite' });
    const close = h('button', { type: 'button', class: 'icon-button', title: 'Close (Escape)', 'aria-label': 'close find' }, '\u00d7');
    let matches = [];
    let index = 0;
    const go = () => {
      if (!matches.length) { count.textContent = input.value ? 'no match' : ''; return; }
      const id = matches[index];
      this.canvas.setSelection([id]);
      this.canvas.reveal(id);
      count.textContent = `${index + 1} of ${matches.length}`;
    };
    input.addEventListener('input', () => {
      const q = input.value.trim().toLowerCase();
      matches = q ? [...this.canvas.views.keys()].filter((id) => {
        const n = this.model.get(id);
        return id.toLowerCase().includes(q) || (n.name || '').toLowerCase().includes(q) || n.type.toLowerCase().includes(q);
      }) : [];
      index = 0;
      go();
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && matches.length) { e.preventDefault(); index = (index + (e.shiftKey ? matches.length - 1 : 1)) % matches.length; go(); }
      if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); this.close(); }
    });
    close.addEventListener('click', () => this.close());
    this.box = h('div', { class: 'find-box', role: 'search' }, input, count, close);
    this.input = input;
    this.host.append(this.box);
    input.focus();
  }

  /** True if it was open. */
  close() {
    if (!this.box) return false;
    this.box.remove();
    this.box = null;
    this.canvas.host.focus({ preventScroll: true });
    return true;
  }
}
