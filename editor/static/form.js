// form.js: the edit tray of a node, generated from its type's JSON Schema. Each field
// is a small controller {el, read()}; the config is collected from them so that a field
// the user did not touch keeps its place in the file (absent stays absent: the runtime
// fills defaults). Errors show inline next to the field as you type: the client-side
// check of the schema, plus the server's POST /api/validate details by JSON pointer.

import { h, clone, debounce, equal, richText, toast, MASK } from './util.js';
import { kindOf, objectBranch, fillDefaults, check, typesOf, isObject } from './schema.js';
import { typedField, pathField, showsTyped } from './typed.js';
import { codeField } from './code.js';
import { refsField } from './refs.js';
import { listField, itemField } from './list.js';
import { showByCondition } from './shown.js';
import { pushOverlay } from './dialogs.js';
import { ID_SENTENCE } from './sentences.js';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
const NEW = '\u0000new';
let counter = 0;
const uid = () => `f${++counter}`;

/**
 * Open the tray for `node` (a copy is edited). ctx: {model, host, serverErrors(id),
 * editShared(type, id|null) -> Promise<id|null>, done(original, edited), remove(id)}.
 * isNew: the node is not in the model yet (a shared connection made from "add new").
 * Resolves to the node's id after Done (null after Cancel or Delete).
 */
export function openForm(ctx, node, { isNew = false } = {}) {
  return new Promise((resolve) => {
    const { model } = ctx;
    const type = model.type(node.type);
    const schema = type ? type.schema : { type: 'object' };
    const dirty = new Set(); // pointers edited since the tray opened (their server errors are stale)
    const badInputs = new Map();
    const env = { uid, bad: badInputs }; // what the widget modules need of the form
    let ports = null; // {list, before}: the rule list whose rows are the output ports
    const serverErrors = isNew ? [] : (ctx.serverErrors(node.id) || []);

    const nameInput = h('input', { type: 'text', id: uid(), value: node.name || '', 'data-field': '/name', autocomplete: 'off' });
    const idInput = h('input', { type: 'text', id: uid(), value: node.id, 'data-field': '/id', autocomplete: 'off', spellcheck: 'false' });
    const root = type ? objectField(schema, '/config', isObject(node.config) ? node.config : {}, true)
      : jsonField({}, '/config', node.config);
    if (!type) root.el = row('Config (JSON)', root.el, '/config', `No node type '${node.type}' is installed; the config is kept as written.`);
    const general = h('div', { class: 'form-errors', 'data-testid': 'form-errors', role: 'alert', hidden: true });
    const users = type && type.shared ? ctx.usersOf(node.id).length : 0;
    const dynamic = !!(type && type.outputs_from_config); // its outputs follow its config
    const outputsLine = h('span', { class: 'form-outputs', 'data-testid': 'form-outputs', hidden: !dynamic });
    const askOutputs = debounce(showOutputs, 250);
    let asked = 0; // the latest question of showOutputs: an older answer is not shown
    let busy = false; // Done waits for the server's count; a second click must not edit twice

    const form = h('form', { class: 'node-form', 'data-testid': 'node-form', novalidate: true },
      general,
      row('Name', nameInput, '/name', 'A label shown on the canvas and in the logs.'),
      root.el,
      h('details', { class: 'form-advanced' }, h('summary', null, 'Node id'),
        row('Id', idInput, '/id', 'Unique in the flow; wires and references to this node follow a change.')),
      type ? h('details', { class: 'form-about' }, h('summary', null, `About ${type.type}`), h('p', null, richText(schema.description || ''))) : null);

    const title = `${isNew ? 'Add' : 'Edit'} ${node.type} ${type && type.shared ? 'connection' : 'node'}`;
    const deleteButton = h('button', { type: 'button', class: 'danger', 'data-testid': 'form-delete', title: 'Delete this node', 'aria-label': 'delete node' }, 'Delete');
    const cancelButton = h('button', { type: 'button', 'data-testid': 'form-cancel', title: 'Cancel (Escape)', 'aria-label': 'cancel' }, 'Cancel');
    const doneButton = h('button', { type: 'button', class: 'primary', 'data-testid': 'form-done', title: 'Done (Ctrl+Enter)', 'aria-label': 'done' }, 'Done');
    const tray = h('aside', { class: 'tray', role: 'dialog', 'aria-label': title, 'data-testid': 'tray', 'data-node': node.id },
      h('header', { class: 'tray-header' }, h('h2', null, title), isNew ? null : deleteButton, h('span', { class: 'spacer' }), cancelButton, doneButton),
      h('div', { class: 'tray-body' }, form),
      h('footer', { class: 'tray-footer' }, `${node.type} \u00b7 ${node.id}`, type && type.shared ? ` \u00b7 used by ${users} node${users === 1 ? '' : 's'}` : '', type ? '' : ' \u00b7 unknown type', outputsLine));
    ctx.host.append(tray);

    let finished = false;
    const unregister = pushOverlay(() => finish(null, 'cancel'), tray);
    function finish(result, how) {
      if (finished) return;
      finished = true;
      askOutputs.cancel();
      ctx.preview(node.id, null);
      unregister();
      tray.remove();
      resolve(how === 'done' ? result : null);
    }

    cancelButton.addEventListener('click', () => finish(null, 'cancel'));
    deleteButton.addEventListener('click', () => { ctx.remove(node.id); finish(null, 'delete'); });
    doneButton.addEventListener('click', done);
    form.addEventListener('submit', (e) => { e.preventDefault(); done(); });
    tray.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); done(); }
    });
    form.addEventListener('input', (e) => markDirty(e.target));
    form.addEventListener('change', (e) => markDirty(e.target));
    refresh();
    if (dynamic) showOutputs();
    setTimeout(() => (form.querySelector('[aria-invalid="true"]') || nameInput).focus(), 0);

    function markDirty(target) {
      const field = target.closest && target.closest('[data-field]');
      if (field) dirty.add(field.dataset.field);
      refresh();
      if (dynamic) askOutputs();
    }

    function collect() {
      const r = root.read();
      return r.value === undefined ? {} : r.value;
    }

    function errors() {
      const config = collect();
      const list = type ? check(schema, fillDefaults(schema, clone(config)), '/config') : [];
      for (const [pointer, message] of badInputs) list.push({ pointer, message });
      const id = idInput.value.trim();
      if (!ID_PATTERN.test(id)) list.push({ pointer: '/id', message: ID_SENTENCE });
      else if (id !== node.id && model.has(id)) list.push({ pointer: '/id', message: `another node already has the id '${id}'` });
      const clientPointers = new Set(list.map((e) => e.pointer));
      for (const e of serverErrors) {
        if (clientPointers.has(e.pointer)) continue; // the same problem, said once
        if (![...dirty].some((p) => e.pointer === p || e.pointer.startsWith(`${p}/`) || p.startsWith(`${e.pointer}/`))) list.push(e);
      }
      if (type) {
        for (const e of ctx.refErrors({ ...node, config })) list.push(e);
      }
      return list;
    }

    function refresh() {
      for (const el of form.querySelectorAll('[data-error-for]')) { el.hidden = true; el.textContent = ''; }
      for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
      for (const el of form.querySelectorAll('.has-error')) el.classList.remove('has-error');
      const loose = [];
      const seen = new Set();
      for (const e of errors()) {
        const key = `${e.pointer}\u0001${e.message}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const target = targetFor(e);
        if (!target) { loose.push(e); continue; }
        target.hidden = false;
        target.textContent = target.textContent ? `${target.textContent}; ${e.message}` : e.message;
        const rowEl = target.closest('.form-row');
        if (rowEl) rowEl.classList.add('has-error');
        const control = form.querySelector(`[data-field="${cssEscape(target.dataset.errorFor)}"]`);
        if (control) control.setAttribute('aria-invalid', 'true');
      }
      general.hidden = !loose.length;
      general.replaceChildren(...loose.map((e) => h('div', null, `${e.pointer || 'flow'}: ${e.message}`)));
    }

    function targetFor(e) {
      let pointer = e.pointer || ''; // a missing field's error points at the field itself
      while (pointer) {
        const el = form.querySelector(`[data-error-for="${cssEscape(pointer)}"]`);
        if (el) return el;
        pointer = pointer.slice(0, pointer.lastIndexOf('/'));
      }
      return null;
    }

    async function done() {
      if (busy) return;
      refresh();
      if (badInputs.size) {
        const first = form.querySelector('[aria-invalid="true"]');
        if (first) first.focus();
        return;
      }
      const id = idInput.value.trim();
      if (!ID_PATTERN.test(id) || (id !== node.id && model.has(id))) { idInput.closest('details').open = true; idInput.focus(); return; }
      const edited = clone(node);
      const name = nameInput.value;
      if (name) edited.name = name; else delete edited.name;
      edited.config = collect();
      edited.id = id;
      let outputs;
      if (dynamic) {
        busy = true;
        const answer = await ctx.countOutputs(edited);
        busy = false;
        if (finished) return; // cancelled meanwhile
        if ('count' in answer) outputs = answer.count;
        else toast(`The ports of ${id} stay as they were: ${answer.error}`, 'error', 8000);
      }
      ctx.done(node, edited, isNew, outputs, portMap());
      finish(id, 'done');
    }

    /** Where each output port's wires go: {origins (per row, the port it was), before
     * (the rows there were)}, or null for a node whose ports are no list's rows. */
    function portMap() { return ports ? { origins: ports.list.origins(), before: ports.before } : null; }

    /** The output count the form's config gives, as the server tells it: shown in the
     * footer, and on the canvas as the node's ports while the form is open (the wires
     * of a moved rule go with it, those of a removed one are gone); Done makes it so. */
    async function showOutputs() {
      const question = ++asked;
      const answer = await ctx.countOutputs({ id: node.id, type: node.type, config: collect() });
      if (question !== asked || finished) return;
      const count = answer.count;
      if ('count' in answer && !isNew) ctx.preview(node.id, { count, ports: portMap() });
      outputsLine.textContent = 'count' in answer ? ` \u00b7 ${count} output${count === 1 ? '' : 's'}` : ` \u00b7 outputs: ${answer.error}`;
      outputsLine.classList.toggle('bad', !('count' in answer));
    }

    // --- field controllers ---------------------------------------------------------
    function row(label, control, pointer, help, { required = false, inline = false, wide = false } = {}) {
      const group = control.getAttribute('role') === 'group'; // labelled as a whole, not by its first box
      const target = /^(INPUT|SELECT|TEXTAREA)$/.test(control.tagName) ? control : group ? null : control.querySelector('input, select, textarea');
      const id = target && target.id;
      const labelEl = h('label', { for: id || null }, label, required ? h('span', { class: 'req', title: 'required' }, ' *') : null);
      return h('div', { class: `form-row${inline ? ' inline' : ''}${wide ? ' wide' : ''}`, 'data-row': pointer },
        inline ? null : labelEl,
        h('div', { class: 'form-control' },
          inline ? h('div', { class: 'check-line' }, control, labelEl) : control,
          h('div', { class: 'field-error', 'data-error-for': pointer, role: 'alert', hidden: true }),
          help ? h('div', { class: 'help' }, richText(help)) : null));
    }

    /** Wrap a controller so that an untouched, absent field stays absent (`raw` still
     * reads what it shows). */
    function keep(controller, present) {
      const initial = controller.read();
      const read = controller.read;
      controller.raw = read;
      controller.read = () => {
        const r = read();
        if (r.value === undefined || (!present && equal(r.value, initial.value))) return { value: undefined };
        return r;
      };
      return controller;
    }

    function field(sub, key, pointer, value, present, required) {
      // A value the widget cannot show (a rule list that is no list of objects) is shown
      // as written, in JSON, with the check's error: never silently replaced.
      const kind = present && !fits(kindOf(sub), value, sub) ? 'json' : kindOf(sub);
      const builders = { ref: refField, enum: enumField, toggle: toggleField, multi: multiField, string: stringField,
        number: numberField, boolean: booleanField, object: (a, b, c) => objectField(a, b, c, false), map: mapField, json: jsonField,
        typed: (a, b, c) => typedField(a, b, c, env), path: (a, b, c) => pathField(a, b, c, env),
        code: (a, b, c) => codeField(a, b, c, env), refs: (a, b, c) => refsField(a, b, c, env, model), list: listOf, choices: choicesField };
      const shown = present ? value : ('default' in sub ? clone(sub.default) : undefined);
      const controller = builders[kind](sub, pointer, shown, required, key);
      if (kind === 'object' || kind === 'toggle') {
        controller.el = h('div', { class: 'form-row', 'data-row': pointer }, controller.el);
      } else {
        controller.el = row(sub.title || key, controller.el, pointer, sub.description,
          { required, inline: kind === 'boolean', wide: kind === 'list' || kind === 'code' });
      }
      return keep(controller, present);
    }

    /** The fields of an object schema: [key, controller] for each property, then for
     * each key of `obj` the schema does not know (kept as JSON, to edit or clear). */
    function fieldsOf(sub, pointer, obj) {
      const required = sub.required || [];
      const children = Object.entries(sub.properties || {}).map(([key, p]) =>
        [key, field(p, key, `${pointer}/${key}`, obj[key], key in obj, required.includes(key))]);
      for (const key of Object.keys(obj)) {
        if (sub.properties && key in sub.properties) continue;
        const c = jsonField({}, `${pointer}/${key}`, obj[key]);
        c.raw = c.read;
        c.el = row(`${key} (unknown field)`, c.el, `${pointer}/${key}`, 'Not in the schema of this type; clear the text to remove it.');
        children.push([key, c]);
      }
      return children;
    }

    function objectField(sub, pointer, value, isRoot = false) {
      const children = fieldsOf(sub, pointer, isObject(value) ? value : {});
      const body = children.map(([, c]) => c.el);
      const el = isRoot ? h('div', { class: 'fieldset-root' }, body)
        : h('fieldset', { class: 'group' }, h('legend', null, sub.title || pointer.split('/').pop()),
          sub.description ? h('div', { class: 'help' }, richText(sub.description)) : null, body,
          h('div', { class: 'field-error', 'data-error-for': pointer, hidden: true }));
      const read = showByCondition(sub, children, value, el);
      return { el, read: () => ({ value: read((key, c) => c.read()) }) };
    }

    /** A list of objects (rules): each row's fields are the item schema's. */
    function listOf(sub, pointer, value) {
      const list = listField(sub, pointer, value, {
        buildRow: (item, where, memory) => itemField(sub.items, where, item, memory, fieldsOf),
        changed: () => markDirty(list.el),
      });
      if (sub['x-port-per-item'] === true && !ports && pointer.split('/').length === 3) {
        ports = { list, before: Array.isArray(value) ? value.length : 0 };
      }
      return list;
    }

    function stringField(sub, pointer, value) {
      const secret = !!sub.writeOnly;
      const input = h('input', {
        type: secret ? 'password' : 'text', id: uid(), 'data-field': pointer, autocomplete: secret ? 'new-password' : 'off',
        value: typeof value === 'string' ? value : (value === undefined || value === null ? '' : String(value)),
        placeholder: secret && value === MASK ? 'unchanged' : (sub.examples ? String(sub.examples[0]) : null),
        spellcheck: 'false',
      });
      if (secret) input.addEventListener('focus', () => { if (input.value === MASK) input.select(); });
      return { el: input, read: () => ({ value: input.value }) };
    }

    function numberField(sub, pointer, value) {
      const nullable = typesOf(sub).includes('null');
      const integer = typesOf(sub).includes('integer') && !typesOf(sub).includes('number');
      const input = h('input', {
        type: 'number', id: uid(), 'data-field': pointer, step: integer ? '1' : 'any',
        value: typeof value === 'number' ? String(value) : '', placeholder: nullable ? '(empty)' : null,
        min: sub.minimum ?? null, max: sub.maximum ?? null,
      });
      return {
        el: input,
        read() {
          badInputs.delete(pointer);
          if (input.validity.badInput) { badInputs.set(pointer, 'not a number'); return { value: value }; }
          const raw = input.value.trim();
          if (raw === '') return { value: nullable ? null : undefined };
          return { value: Number(raw) };
        },
      };
    }

    /** Some of an enum's values (an inject node's weekdays): a checkbox each, read in
     * the enum's order. */
    function choicesField(sub, pointer, value) {
      const options = sub.items.enum;
      const chosen = Array.isArray(value) ? value : [];
      const boxes = options.map((v) => h('input', { type: 'checkbox', id: uid(), 'data-choice': String(v), checked: chosen.some((c) => equal(c, v)) }));
      const el = h('div', { class: 'choices', 'data-field': pointer, role: 'group' },
        options.map((v, i) => h('label', { class: 'check-line', for: boxes[i].id }, boxes[i], String(v))));
      return { el, read: () => ({ value: options.filter((_, i) => boxes[i].checked).map(clone) }) };
    }

    function booleanField(sub, pointer, value) {
      const input = h('input', { type: 'checkbox', id: uid(), 'data-field': pointer, checked: value === true });
      return { el: input, read: () => ({ value: input.checked }) };
    }

    function enumField(sub, pointer, value) {
      const select = h('select', { id: uid(), 'data-field': pointer });
      const values = [...sub.enum];
      if (value === undefined) select.append(h('option', { value: '' }, '\u2014 choose \u2014'));
      else if (!values.some((v) => equal(v, value))) { values.push(value); }
      values.forEach((v, i) => select.append(h('option', { value: String(i), selected: equal(v, value) }, i >= sub.enum.length ? `${JSON.stringify(v)} (not allowed)` : String(v))));
      return { el: select, read: () => ({ value: select.value === '' ? undefined : clone(values[Number(select.value)]) }) };
    }

    function refField(sub, pointer, value, required) {
      const wanted = sub['x-ref'];
      const select = h('select', { id: uid(), 'data-field': pointer, 'data-ref': wanted });
      const edit = h('button', { type: 'button', class: 'icon-button', title: `Edit the selected ${wanted}`, 'aria-label': `edit ${wanted}`, 'data-testid': `ref-edit-${pointer}` }, '\u270e');
      let current = typeof value === 'string' ? value : '';
      const fill = () => {
        const options = [h('option', { value: '' }, required ? `\u2014 choose a ${wanted} \u2014` : '\u2014 none \u2014')];
        const shared = model.sharedOfType(wanted);
        for (const n of shared) options.push(h('option', { value: n.id }, n.name ? `${n.name} (${n.id})` : n.id));
        for (const c of model.elsewhere.values()) if (c.type === wanted) { shared.push(c); options.push(h('option', { value: c.id }, `${c.id} (tab ${c.tab})`)); }
        if (current && !shared.some((n) => n.id === current)) options.push(h('option', { value: current }, `${current} (missing)`));
        options.push(h('option', { value: NEW }, `add new ${wanted}\u2026`));
        select.replaceChildren(...options);
        select.value = current;
        edit.disabled = !current || !model.has(current);
      };
      fill();
      select.addEventListener('change', async () => {
        if (select.value !== NEW) { current = select.value; edit.disabled = !current || !model.has(current); return; }
        select.value = current;
        const id = await ctx.editShared(wanted, null);
        if (id) current = id;
        fill();
        markDirty(select);
      });
      edit.addEventListener('click', async () => {
        if (!current) return;
        await ctx.editShared(wanted, current);
        fill();
        refresh();
      });
      const el = h('div', { class: 'ref-line' }, select, edit);
      return { el, read: () => ({ value: current || undefined }) };
    }

    function toggleField(sub, pointer, value) {
      const branch = objectBranch(sub);
      const on = isObject(value);
      const box = h('input', { type: 'checkbox', id: uid(), 'data-field': pointer, checked: on });
      const inner = objectField(branch, pointer, on ? value : {}, true);
      const body = h('div', { class: 'toggle-body', hidden: !on }, inner.el);
      box.addEventListener('change', () => { body.hidden = !box.checked; });
      const el = h('fieldset', { class: 'group toggle' },
        h('legend', null, h('label', { class: 'check-line' }, box, ` ${sub.title || pointer.split('/').pop()}: enabled`)),
        sub.description ? h('div', { class: 'help' }, richText(sub.description)) : null,
        h('div', { class: 'field-error', 'data-error-for': pointer, hidden: true }), body);
      return { el, read: () => ({ value: box.checked ? inner.read().value : false }) };
    }

    function multiField(sub, pointer, value) {
      const branches = sub.oneOf || sub.anyOf || [{ type: sub.type }];
      const allowed = new Set(branches.flatMap(typesOf));
      const input = h('input', { type: 'text', id: uid(), 'data-field': pointer, value: value === null || value === undefined ? '' : String(value), spellcheck: 'false' });
      return {
        el: input,
        read() {
          const raw = input.value.trim();
          if (raw === '') return { value: allowed.has('null') ? null : allowed.has('string') ? '' : undefined };
          if ((allowed.has('number') || allowed.has('integer')) && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) return { value: Number(raw) };
          if (allowed.has('boolean') && (raw === 'true' || raw === 'false')) return { value: raw === 'true' };
          return { value: input.value };
        },
      };
    }

    function mapField(sub, pointer, value) {
      const itemType = typesOf(sub.additionalProperties)[0];
      const rows = h('div', { class: 'map-rows', 'data-field': pointer });
      const add = (k = '', v = '') => {
        const key = h('input', { type: 'text', placeholder: 'name', 'aria-label': 'name', value: k, 'data-map-key': '' });
        const val = h('input', { type: 'text', placeholder: 'value', 'aria-label': 'value', value: v === null ? '' : String(v), 'data-map-value': '' });
        const del = h('button', { type: 'button', class: 'icon-button', title: 'Remove', 'aria-label': 'remove row' }, '\u00d7');
        const line = h('div', { class: 'map-row' }, key, val, del);
        del.addEventListener('click', () => { line.remove(); markDirty(rows); });
        rows.append(line);
        return key;
      };
      for (const [k, v] of Object.entries(isObject(value) ? value : {})) add(k, v);
      const more = h('button', { type: 'button', class: 'small', 'data-testid': `map-add-${pointer}` }, '+ add');
      more.addEventListener('click', () => add().focus());
      const el = h('div', { class: 'map' }, rows, more);
      return {
        el,
        read() {
          const out = {};
          for (const line of rows.children) {
            const k = line.children[0].value;
            const raw = line.children[1].value;
            if (!k) continue;
            out[k] = itemType === 'number' || itemType === 'integer' ? (raw.trim() === '' || Number.isNaN(Number(raw)) ? raw : Number(raw))
              : itemType === 'boolean' ? raw === 'true' : raw;
          }
          return { value: out };
        },
      };
    }

    function jsonField(sub, pointer, value) {
      const text = h('textarea', { id: uid(), 'data-field': pointer, rows: 3, spellcheck: 'false' }, value === undefined ? '' : JSON.stringify(value, null, 2));
      return {
        el: text,
        read() {
          badInputs.delete(pointer);
          if (!text.value.trim()) return { value: undefined };
          try { return { value: JSON.parse(text.value) }; } catch (e) { badInputs.set(pointer, `not valid JSON: ${e.message}`); return { value }; }
        },
      };
    }
  });
}

const FITS = {
  typed: (v, sub) => showsTyped(sub, v), list: (v) => Array.isArray(v) && v.every(isObject),
  choices: (v, sub) => Array.isArray(v) && v.every((c) => sub.items.enum.some((e) => equal(e, c))),
  path: (v) => typeof v === 'string', code: (v) => typeof v === 'string',
  refs: (v) => Array.isArray(v) && v.every((id) => typeof id === 'string'),
};
const fits = (kind, value, sub) => !FITS[kind] || FITS[kind](value, sub);

function cssEscape(text) { return window.CSS && CSS.escape ? CSS.escape(text) : text.replace(/"/g, '\\"'); }
