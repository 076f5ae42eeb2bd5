// code.js: a code field of the form (Python, JSONata, a template): a monospace text
// area with line numbers, where Tab and Shift+Tab indent and outdent the lines, Enter
// keeps the indentation (and indents after a Python line ending in ":"), and Ctrl+M
// lets Tab move the focus instead. Plain DOM, nothing loaded: the editor is offline.

import { h } from './util.js';

const LANGUAGES = {
  'x-python': { label: 'Python', unit: '    ', rows: 10 },
  'x-python-script': { label: 'Python', unit: '    ', rows: 6 },
  'x-jsonata': { label: 'JSONata', unit: '  ', rows: 3 },
};

/** The language of a code field's schema ({label, unit, rows}), or null for plain text. */
export function codeLanguage(schema) {
  for (const [keyword, language] of Object.entries(LANGUAGES)) if (schema[keyword] === true) return language;
  if (schema['x-widget'] === 'code') return { label: schema['x-language'] || 'text', unit: '  ', rows: 8 };
  return null;
}

/** A code field {el, read()} at `pointer`. env: {uid}. */
export function codeField(schema, pointer, value, env) {
  const language = codeLanguage(schema) || { label: 'text', unit: '  ', rows: 6 };
  const python = language.label === 'Python';
  const text = h('textarea', {
    id: env.uid(), class: 'code', 'data-field': pointer, rows: language.rows, wrap: 'off', spellcheck: 'false',
    autocomplete: 'off', autocapitalize: 'off', 'aria-label': `${language.label} code`,
  });
  text.value = typeof value === 'string' ? value : '';
  const numbers = h('div', { class: 'code-lines', 'aria-hidden': 'true' });
  const mode = h('span', { class: 'code-mode' });
  let tabMoves = false;
  const el = h('div', { class: 'code-field', 'data-language': language.label },
    h('div', { class: 'code-box' }, numbers, text),
    h('div', { class: 'code-hint help' }, h('span', null, language.label), ' \u00b7 ', mode));

  let shown = 0;
  function renumber() {
    const lines = text.value.split('\n').length;
    if (lines !== shown) {
      numbers.textContent = Array.from({ length: lines }, (_, i) => i + 1).join('\n'); // one text: a long script stays cheap
      shown = lines;
    }
    numbers.scrollTop = text.scrollTop;
  }
  function showMode() {
    mode.textContent = tabMoves ? 'Tab moves the focus (Ctrl+M: Tab indents)' : 'Tab indents (Ctrl+M: Tab moves the focus)';
  }
  renumber();
  showMode();
  text.addEventListener('input', renumber);
  text.addEventListener('scroll', () => { numbers.scrollTop = text.scrollTop; });
  text.addEventListener('keydown', (e) => {
    if (e.key === 'm' && e.ctrlKey && !e.altKey && !e.metaKey) { e.preventDefault(); tabMoves = !tabMoves; showMode(); return; }
    if (e.key === 'Tab' && !tabMoves && !e.ctrlKey && !e.altKey && !e.metaKey) { e.preventDefault(); indent(e.shiftKey); return; }
    if (e.key === 'Enter' && !e.ctrlKey && !e.metaKey && !e.altKey && !e.shiftKey) { e.preventDefault(); newline(); }
  });

  /** Replace [from, to) with `replacement` so that the text area's own undo takes it back. */
  function replace(from, to, replacement) {
    text.focus();
    text.setSelectionRange(from, to);
    if (!document.execCommand('insertText', false, replacement)) text.setRangeText(replacement, from, to, 'end');
    text.dispatchEvent(new Event('input', { bubbles: true }));
  }

  function indent(outdent) {
    const { selectionStart: start, selectionEnd: end, value: all } = text;
    if (!outdent && start === end) { replace(start, end, language.unit); return; }
    const first = all.lastIndexOf('\n', start - 1) + 1;
    const stop = end > start && all[end - 1] === '\n' ? end - 1 : end; // a selection ending at a line start
    const lineEnd = all.indexOf('\n', stop);
    const last = lineEnd < 0 ? all.length : lineEnd;
    const lines = all.slice(first, last).split('\n');
    const changed = lines.map((line) => {
      if (!outdent) return line ? language.unit + line : line;
      const spaces = /^ */.exec(line)[0].length;
      return line.slice(line.startsWith('\t') ? 1 : Math.min(spaces, language.unit.length));
    });
    const block = changed.join('\n');
    if (block === lines.join('\n')) return;
    replace(first, last, block);
    if (start === end) {
      const at = Math.max(first, start + changed[0].length - lines[0].length);
      text.setSelectionRange(at, at);
    } else text.setSelectionRange(first, first + block.length);
  }

  function newline() {
    const { selectionStart: start, selectionEnd: end, value: all } = text;
    const line = all.slice(all.lastIndexOf('\n', start - 1) + 1, start);
    let lead = /^[ \t]*/.exec(line)[0];
    if (python && /:\s*(#.*)?$/.test(line)) lead += language.unit;
    replace(start, end, `\n${lead}`);
  }

  return { el, read: () => ({ value: text.value }) };
}
