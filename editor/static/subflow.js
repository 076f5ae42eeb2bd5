// subflow.js: editing a subflow's definition on the canvas. Double-clicking an instance
// (or a palette entry's "edit") shows the subflow's own nodes in place of the flow, with a
// bar naming it and a "Back to flow" button; Deploy then saves it (PUT /api/subflows/NAME),
// which restarts its instances in every tab. The page holds one document at a time, so a
// subflow opens only when the flow has no undeployed change, and going back with
// undeployed subflow changes asks first. While open, the first instance's inner statuses
// (INSTANCE/INNER on the websocket) show under the inner nodes.

import * as api from './api.js';
import { choose } from './dialogs.js';
import { h, toast } from './util.js';

export const SUBFLOW_PREFIX = 'subflow:';

export class SubflowMode {
  /** model: the page's Model; host: where the bar goes (#banners); onBack(statuses): the
   * flow is shown again, with the flow's statuses that came while the subflow was open;
   * tabBar: the tab bar, inert while a subflow is open (a switch would load a tab under
   * the subflow's Deploy; going back returns to the tab it was opened from). */
  constructor(model, host, onBack, tabBar) {
    this.model = model;
    this.host = host;
    this.tabBar = tabBar;
    this.onBack = onBack;
    this.held = new Map(); // the flow's node id -> its latest status, while a subflow is open
    this.current = null; // {name, file, instances} while a subflow is open
    this.bar = null;
  }

  get active() { return this.current !== null; }

  /** Open the definition of `type` (subflow:NAME); false if it did not open. */
  async open(type) {
    if (!type.startsWith(SUBFLOW_PREFIX)) return false;
    if (this.active) { toast('Go back to the flow before opening another subflow', 'info'); return false; }
    if (this.model.changeCount) {
      toast('Deploy or undo the flow\u2019s changes before opening a subflow: the page edits one at a time', 'info', 6000);
      return false;
    }
    const name = type.slice(SUBFLOW_PREFIX.length);
    let answer;
    try { answer = await api.getSubflow(name); } catch (error) {
      toast(`The subflow ${name} cannot be opened: ${error.message}`, 'error', 8000);
      return false;
    }
    this.current = { name, file: answer.data.file, instances: answer.data.instances };
    this.model.load(answer.data.document, answer.etag);
    this.tabBar.inert = true;
    this.showBar();
    return true;
  }

  /** Back to the flow, read again from the server (it had no undeployed change). */
  async back() {
    if (!this.active) return;
    if (this.model.changeCount && !(await this.confirmDiscard())) return;
    let flow;
    try { flow = await api.getFlow(); } catch (error) {
      toast(`The flow cannot be read: ${error.message}`, 'error', 8000);
      return;
    }
    this.current = null;
    this.tabBar.inert = false;
    if (this.bar) this.bar.remove();
    this.bar = null;
    this.model.load(flow.doc, flow.etag);
    const held = this.held;
    this.held = new Map();
    this.onBack(held);
  }

  /** Deploy what the canvas holds: the subflow while one is open, else the flow. */
  put(doc, etag) {
    return this.active ? api.putSubflow(this.current.name, doc, etag) : api.putFlow(doc, etag);
  }

  /** The canvas node a status event is for: an inner node of the first instance while its
   * subflow is open (a flow node's status is held for going back), the node otherwise. */
  statusTarget(status) {
    const id = status.node;
    if (!this.active) return id;
    const first = this.current.instances[0];
    if (first !== undefined && id.startsWith(`${first}/`)) return id.slice(first.length + 1);
    this.held.set(id, status);
    return null;
  }

  showBar() {
    const { name, file, instances } = this.current;
    const running = instances.length ? `runs as ${instances.join(', ')}` : 'no instance runs';
    this.bar = h('div', { class: 'banner subflow-bar', role: 'status', 'data-testid': 'subflow-bar', 'data-subflow': name },
      h('span', null, `Editing subflow ${name} (${file}; ${running}). Deploy saves it and restarts its instances.`),
      h('button', { type: 'button', class: 'small', 'data-testid': 'subflow-back', title: 'Show the flow again', onclick: () => this.back() }, 'Back to flow'));
    this.host.prepend(this.bar);
  }

  async confirmDiscard() {
    const text = `The subflow ${this.current.name} has ${this.model.changeCount} undeployed change(s). Going back drops them.`;
    return (await choose('Undeployed subflow changes', text, [
      { label: 'Drop them', testid: 'subflow-discard', danger: true, value: true },
      { label: 'Stay', testid: 'subflow-stay', primary: true, value: false },
    ], 'dialog-subflow-discard')) === true;
  }
}
