// deploy.js: Deploy (PUT /api/flow with If-Match), its error dialog, and lost-update
// handling: a 412, or the websocket saying the file changed on disk, offers to review
// the difference, reload the disk version, or overwrite it with this page's.

import * as api from './api.js';
import { dialog } from './dialogs.js';
import { h, clone, equal, stable, toast } from './util.js';

/** A subflow's deploy reports per tab (data.tabs): their lists joined, as one tab's. */
function summed(data) {
  if (!Array.isArray(data.tabs)) return data;
  const all = (key) => data.tabs.flatMap((tab) => tab[key] || []);
  return { started: all('started'), stopped: all('stopped'), unchanged: [], failed: all('failed') };
}

export class Deployer {
  /** app: {model, problems, revealNode(id), put(doc, etag): the deploy's request,
   * subflowOpen(): whether a subflow, not the flow, is on the canvas}. */
  constructor(app) {
    this.app = app;
    this.model = app.model;
    this.busy = false;
    this.pendingEtag = null;
    this.banner = null;
    this.button = document.querySelector('[data-testid="deploy"]');
  }

  async deploy() {
    if (this.busy) return;
    this.busy = true;
    this.button.classList.add('busy');
    const sent = clone(this.model.toDocument());
    try {
      const r = await this.app.put(sent, this.model.etag);
      if (r.status === 200) {
        this.model.markDeployed(r.data.etag || r.etag, sent);
        this.app.problems.applyServer([]);
        const d = summed(r.data);
        const count = (list) => (Array.isArray(list) ? list.length : 0);
        const summary = `${count(d.started)} started, ${count(d.stopped)} stopped, ${count(d.unchanged)} unchanged`;
        const failed = Array.isArray(d.failed) ? d.failed : [];
        if (failed.length) {
          const which = failed.map((f) => `${f.node} (${f.reason})`).join('; ');
          toast(`Deployed, but ${failed.length} node${failed.length === 1 ? '' : 's'} failed to start: ${which}. ${summary}`, 'error', 10000);
        } else {
          toast(`Deployed: ${summary}`, 'ok');
        }
        this.hideBanner();
      } else if (r.status === 400 && r.data && r.data.errors) {
        this.app.problems.applyServer(r.data.details || [], r.data.errors);
        this.showErrors(r.data.errors, r.data.details || []);
      } else if ((r.status === 412 || r.status === 428) && this.app.subflowOpen()) {
        // The review, reload and overwrite below are the flow file's.
        toast('The subflow file changed since this page opened it: go back to the flow and open it again', 'error', 10000);
      } else if (r.status === 412 || r.status === 428) {
        this.conflict(r.data && r.data.etag);
      } else if (r.status !== 401) {
        toast(`Deploy failed: ${(r.data && r.data.error) || `HTTP ${r.status}`}`, 'error', 8000);
      }
    } catch (error) {
      toast(`Deploy failed: ${error.message}`, 'error', 8000);
    } finally {
      this.busy = false;
      this.button.classList.remove('busy');
      if (this.pendingEtag) { const etag = this.pendingEtag; this.pendingEtag = null; this.flowChanged(etag); }
    }
  }

  showErrors(lines, details) {
    const items = lines.map((line, i) => {
      const node = details[i] && details[i].node;
      const item = h('li', { 'data-testid': 'deploy-error', class: node ? 'link' : '' }, line);
      if (node && this.model.has(node)) item.addEventListener('click', () => { close(); this.app.revealNode(node); });
      return item;
    });
    const { close } = dialog({
      title: 'Not deployed: the flow has errors', testid: 'dialog-errors', wide: true,
      body: [h('p', null, 'Nothing was written or restarted. Fix these and deploy again:'), h('ul', { class: 'error-list' }, items)],
      buttons: [{ label: 'Close', testid: 'errors-close', primary: true }],
    });
  }

  conflict(diskEtag, reason) {
    const diffBox = h('div', { class: 'diff', 'data-testid': 'conflict-diff', hidden: true });
    let etag = diskEtag;
    dialog({
      title: 'The flow file changed', testid: 'dialog-conflict', wide: true,
      body: [h('p', null, reason || 'The flow file changed on disk or in another tab since this page loaded it. Deploying now would overwrite that change.'), diffBox],
      buttons: [
        { label: 'Review', testid: 'conflict-review', title: 'Show which nodes differ', onClick: async () => { etag = (await this.showDiff(diffBox)) || etag; } },
        { label: 'Reload', testid: 'conflict-reload', title: 'Take the version on disk; your undeployed changes are dropped', onClick: (close) => { close(); this.reload(); } },
        { label: 'Overwrite', testid: 'conflict-overwrite', danger: true, title: 'Deploy your version over the one on disk', onClick: (close) => { close(); this.overwrite(etag); } },
        { label: 'Cancel', testid: 'conflict-cancel' },
      ],
    });
  }

  async overwrite(etag) {
    if (!etag || etag === 'unreadable') {
      try { etag = (await api.getFlow()).etag; } catch { /* broken on disk: the PUT will say so */ }
    }
    if (etag) this.model.etag = etag;
    this.hideBanner();
    await this.deploy();
  }

  /** Fill `box` with the nodes that differ between the disk and this page; returns the disk's etag. */
  async showDiff(box) {
    box.hidden = false;
    box.replaceChildren(h('p', { class: 'muted' }, 'Reading the file on disk\u2026'));
    let disk;
    try { disk = await api.getFlow(); } catch (error) {
      box.replaceChildren(h('p', { class: 'error' }, `The file on disk cannot be read: ${error.message}`));
      return null;
    }
    const mine = this.model.toDocument();
    const theirs = new Map((disk.doc.nodes || []).map((n) => [n.id, n]));
    const ours = new Map(mine.nodes.map((n) => [n.id, n]));
    const added = [...ours.keys()].filter((id) => !theirs.has(id));
    const removed = [...theirs.keys()].filter((id) => !ours.has(id));
    const changed = [...ours.keys()].filter((id) => theirs.has(id) && !equal(ours.get(id), theirs.get(id))).map((id) => {
      const a = ours.get(id);
      const b = theirs.get(id);
      const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => stable(a[k]) !== stable(b[k]));
      return `${id} (${fields.join(', ')})`;
    });
    const section = (title, list, cls) => (list.length ? h('div', { class: `diff-section ${cls}` }, h('h4', null, `${title} (${list.length})`),
      h('ul', null, list.map((x) => h('li', { 'data-testid': `diff-${cls}` }, x)))) : null);
    const nameDiff = (mine.name || '') !== (disk.doc.name || '') ? h('p', null, `Flow name: "${disk.doc.name || ''}" on disk, "${mine.name || ''}" here.`) : null;
    const parts = [section('Only in this page', added, 'added'), section('Only on disk', removed, 'removed'), section('Different', changed, 'changed'), nameDiff].filter(Boolean);
    box.replaceChildren(...(parts.length ? parts : [h('p', null, 'No node differs: the change is only in formatting or order.')]));
    return disk.etag;
  }

  async reload() {
    try {
      const { doc, etag } = await api.getFlow();
      this.model.load(doc, etag);
      this.hideBanner();
      toast('Reloaded the flow from disk', 'ok');
    } catch (error) {
      toast(`Reload failed: ${error.message}`, 'error', 8000);
    }
  }

  /** The websocket (or a check after reconnecting) gave the file's current etag. */
  flowChanged(etag) {
    etag = api.normEtag(etag);
    if (this.busy) { this.pendingEtag = etag; return; }
    if (etag === this.model.etag) { this.hideBanner(); return; }
    this.showBanner(etag);
  }

  showBanner(etag) {
    this.hideBanner();
    const broken = etag === 'unreadable';
    const changes = this.model.changeCount;
    const text = broken ? 'The flow file on disk cannot be read right now (being edited, or broken).'
      : `The flow file changed on disk or in another tab.${changes ? ` You have ${changes} undeployed change${changes === 1 ? '' : 's'}.` : ''}`;
    const button = (label, testid, title, fn) => h('button', { type: 'button', class: 'small', 'data-testid': testid, title, onclick: fn }, label);
    this.banner = h('div', { class: 'banner', role: 'alert', 'data-testid': 'banner-flow-changed', 'data-etag': etag },
      h('span', null, text),
      button('Review', 'banner-review', 'Show which nodes differ', () => this.conflict(etag, text)),
      broken ? null : button('Reload', 'banner-reload', 'Take the version on disk', () => this.reload()),
      button('Overwrite', 'banner-overwrite', 'Deploy this page\u2019s version over it', () => this.overwrite(etag)),
      button('Dismiss', 'banner-dismiss', 'Hide this message', () => this.hideBanner()));
    document.getElementById('banners').append(this.banner);
  }

  hideBanner() {
    if (this.banner) this.banner.remove();
    this.banner = null;
  }
}
