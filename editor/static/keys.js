// keys.js: the keyboard habits of Node-RED users. Nothing is taken while typing in a
// field, and only Escape works while a dialog or an edit tray is open.

import { isTyping } from './util.js';
import { cancelTop, overlayOpen } from './dialogs.js';

const CTRL = { d: 'deploy', y: 'redo', c: 'copy', x: 'cut', v: 'paste', a: 'selectAll', f: 'find', i: 'import', e: 'export' };

/** actions: {deploy, undo, redo, copy, cut, paste, selectAll, find, import, export, remove,
 * edit, escape, nudge(dx, dy), zoomIn, zoomOut, zoomReset}. An action returning false
 * leaves the browser's default (copy and paste use the clipboard events). */
export function bindKeys(actions) {
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      if (cancelTop()) { e.preventDefault(); return; }
      if (!isTyping(e)) actions.escape();
      else e.target.blur();
      return;
    }
    if (isTyping(e) || overlayOpen() || e.altKey) return;
    const ctrl = e.ctrlKey || e.metaKey;
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    let run = null;
    if (ctrl && key === 'z') run = e.shiftKey ? actions.redo : actions.undo;
    else if (ctrl && CTRL[key]) run = actions[CTRL[key]];
    else if (ctrl && (key === '=' || key === '+')) run = actions.zoomIn;
    else if (ctrl && key === '-') run = actions.zoomOut;
    else if (ctrl && key === '0') run = actions.zoomReset;
    else if (ctrl) return;
    else if (key === 'Delete' || key === 'Backspace') run = actions.remove;
    else if (key === 'Enter') run = actions.edit;
    else if (key.startsWith('Arrow')) {
      const step = e.shiftKey ? 20 : 1;
      const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[key];
      if (d && actions.nudge(d[0], d[1]) !== false) e.preventDefault();
      return;
    }
    if (!run) return;
    if (run(e) !== false) e.preventDefault();
  });
}
