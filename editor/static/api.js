// api.js: the editor's HTTP API and websocket. Same-origin only: the session cookie
// (HttpOnly, set when the page was opened with ?token=...) rides along by itself and
// the browser adds the Origin header the server checks on state-changing requests.

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** An ETag without quotes or weak prefix, however the server spelt it. */
export const normEtag = (etag) => String(etag || '').replace(/^W\//, '').replace(/"/g, '');

const listeners = new Set();
/** Called with every 401 (the session is gone: the server restarted with a new token). */
export const onUnauthorized = (fn) => listeners.add(fn);

async function call(method, url, { body, headers = {} } = {}) {
  const init = { method, headers: { ...headers }, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { error: text }; }
  if (response.status === 401) listeners.forEach((fn) => fn());
  if (data && typeof data.etag === 'string') data.etag = normEtag(data.etag);
  const etag = normEtag(response.headers.get('ETag') || '');
  return { status: response.status, ok: response.ok, data, etag };
}

function expect(result) {
  if (!result.ok) throw new ApiError(result.status, result.data);
  return result;
}

/** The node types: [{type, category, inputs, outputs, outputs_from_config, outputs_rule,
 * shared, color, icon, source, schema}]; `outputs` is the count with the defaults. */
export const getNodes = async () => expect(await call('GET', '/api/nodes')).data;

// The tab the page edits (tabs.js): null for the first, which /api/flow serves.
let tab = null;
/** Point getFlow, putFlow and validate at the tab `name` (null: the first tab). */
export const setTab = (name) => { tab = name; };
/** The page's tab was deleted: validation and deploy fail here, without a request, until
 * the next setTab (a validation due meanwhile would ask about a file that is gone). */
export const closeTab = () => { tab = undefined; };
const flowUrl = (name = tab) => {
  if (name === undefined) throw new Error('the tab was deleted');
  return name === null ? '/api/flow' : `/api/tabs/${encodeURIComponent(name)}`;
};

/** The flow document (secrets masked) and its ETag: the page's tab's, or tab `name`'s. */
export async function getFlow(name = tab) {
  const r = expect(await call('GET', flowUrl(name)));
  return { doc: r.data, etag: r.etag };
}

/** Deploy: {status: 200|400|412|..., data, etag}. The caller handles 400 and 412. */
export const putFlow = async (doc, etag) => call('PUT', flowUrl(), { body: doc, headers: { 'If-Match': `"${etag}"` } });

/** {errors: [lines], details: [{node, inner, pointer, message}]}; writes nothing. */
export const validate = async (doc) => expect(await call('POST', tab === null ? '/api/validate' : `${flowUrl()}/validate`, { body: doc })).data;

/** The flow files the process runs: [{name, file, label, etag, connections: [{id, type}]}]. */
export const listTabs = async () => expect(await call('GET', '/api/tabs')).data.tabs;

/** A new empty tab file: {status, data}; the caller shows a 400/409's error. */
export const addTab = (name, label) => call('POST', '/api/tabs', { body: { name, label } });

/** Delete a tab's file: {status, data}; 409 says (in `errors` or `error`) why not. */
export const deleteTab = (name, etag) => call('DELETE', `/api/tabs/${encodeURIComponent(name)}`, { headers: { 'If-Match': `"${etag}"` } });

/** A subflow: {status, data: {type, file, document (secrets masked), instances}, etag}. */
export const getSubflow = async (name) => expect(await call('GET', `/api/subflows/${encodeURIComponent(name)}`));

/** Deploy a subflow: as putFlow, the report per tab in data.tabs. */
export const putSubflow = (name, doc, etag) => call('PUT', `/api/subflows/${encodeURIComponent(name)}`, { body: doc, headers: { 'If-Match': `"${etag}"` } });

/** Output counts for [{id, type, config}]: {outputs: {id: count}, errors: {id: sentence}, details}. */
export const countOutputs = async (nodes) => expect(await call('POST', '/api/outputs', { body: { nodes } })).data;

export const inject = async (id) => expect(await call('POST', `/api/nodes/${encodeURIComponent(id)}/inject`));

/** The event stream: onFrame(list of events); onState('open'|'closed'). Reconnects. */
export function connect(onFrame, onState) {
  let delay = 500;
  let socket = null;
  let stopped = false;
  const open = () => {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${scheme}://${location.host}/api/ws`);
    socket.onopen = () => { delay = 500; onState('open'); };
    socket.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      onFrame(Array.isArray(frame) ? frame : [frame]);
    };
    socket.onclose = () => {
      onState('closed');
      if (!stopped) setTimeout(open, delay);
      delay = Math.min(delay * 2, 10000);
    };
  };
  open();
  return { close() { stopped = true; socket && socket.close(); } };
}

/** A Node-RED export converted (nothing written): {status, ok, data: {report, text, nodes}}. */
export const importNodeRed = (text) => call('POST', '/api/import/node-red', { body: { export: text } });
