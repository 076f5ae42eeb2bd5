// dialogs.js: modal dialogs and the stack of open overlays (dialogs, edit trays, the
// find box) that Escape closes from the top.

import { h } from './util.js';

const stack = [];

/** Register an overlay; cancel() is called by Escape. Returns a function removing it. */
export function pushOverlay(cancel, element) {
  const entry = { cancel, element };
  stack.push(entry);
  return () => { const i = stack.indexOf(entry); if (i >= 0) stack.splice(i, 1); };
}

export const overlayOpen = () => stack.length > 0;
export const modalOpen = () => stack.some((e) => e.element && e.element.classList.contains('modal'));
export const topOverlay = () => stack[stack.length - 1];

/** Escape: close the topmost overlay. True if there was one. */
export function cancelTop() {
  const top = stack[stack.length - 1];
  if (!top) return false;
  top.cancel();
  return true;
}

/**
 * A modal dialog. buttons: [{label, testid, primary, danger, onClick(close) -> keep open if false returned... }]
 * Returns {el, body, close}.
 */
export function dialog({ title, testid, body, buttons = [], onClose, wide = false }) {
  const titleId = `dlg-${Math.random().toString(36).slice(2, 8)}`;
  const content = h('div', { class: 'dialog-body' }, body);
  const bar = h('div', { class: 'dialog-buttons' });
  const box = h('div', { class: `dialog${wide ? ' wide' : ''}`, role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': titleId, 'data-testid': testid },
    h('h2', { id: titleId }, title), content, bar);
  const backdrop = h('div', { class: 'modal' }, box);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    remove();
    backdrop.remove();
    if (onClose) onClose();
  };
  for (const b of buttons) {
    const button = h('button', {
      type: 'button', class: b.primary ? 'primary' : b.danger ? 'danger' : '', 'data-testid': b.testid, title: b.title || b.label,
    }, b.label);
    button.addEventListener('click', () => { if (b.onClick) b.onClick(close, button); else close(); });
    bar.append(button);
  }
  const remove = pushOverlay(close, backdrop);
  document.body.append(backdrop);
  const focus = box.querySelector('textarea, input, select') || bar.querySelector('.primary') || bar.querySelector('button');
  if (focus) focus.focus();
  return { el: box, body: content, close };
}

/** A short question with choices; resolves to the chosen value (null on Escape). */
export function choose(title, text, choices, testid = 'dialog-choose') {
  return new Promise((resolve) => {
    let value = null;
    dialog({
      title, testid, body: h('p', null, text), onClose: () => resolve(value),
      buttons: choices.map((c) => ({ ...c, onClick: (close) => { value = c.value; close(); } })),
    });
  });
}
