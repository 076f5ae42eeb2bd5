// Runs a Node-RED flow for tests/node_red.py: reads {red, nodesDir, userDir, flows, inputs,
// context, quietMs, timeoutMs} as JSON on stdin, starts Node-RED 4 embedded with no HTTP
// at all (so it opens no port), sets the context values, hands each input message to its
// node in order, and prints what the collectors received once the flow has been quiet
// for quietMs (or timeoutMs passed), as one JSON document.
'use strict';
const fs = require('fs');
const http = require('http');
const job = JSON.parse(fs.readFileSync(0, 'utf8'));
const RED = require(job.red);

globalThis.portlessCollected = [];
let lastArrival = Date.now();
globalThis.portlessArrived = () => { lastArrival = Date.now(); };

const settings = {
  userDir: job.userDir,
  nodesDir: [job.nodesDir],
  httpAdminRoot: false,
  httpNodeRoot: false,
  flowFile: 'flows.json',
  editorTheme: { tours: false },
  logging: { console: { level: 'error' } },
  functionGlobalContext: {},
};
fs.writeFileSync(`${job.userDir}/flows.json`, JSON.stringify(job.flows));

// A Node.js Buffer's JSON ({type: 'Buffer', data: [...]}) in an input is a Buffer again,
// so bytes can be fed to a node as a flow would.
function revive(value) {
  if (Array.isArray(value)) return value.map(revive);
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  if (value.type === 'Buffer' && Array.isArray(value.data) && keys.length === 2) {
    return Buffer.from(value.data);
  }
  return Object.fromEntries(keys.map((key) => [key, revive(value[key])]));
}

function finish(code, extra) {
  // Exit once the answer is written: a pipe takes it in 64 KiB pieces, asynchronously.
  process.stdout.write(JSON.stringify({ received: globalThis.portlessCollected, ...extra }),
    () => RED.stop().finally(() => process.exit(code)));
}

RED.init(http.createServer(), settings);
// A flow naming a type Node-RED lacks never starts: say so instead of waiting.
const notStarted = setTimeout(() => finish(4, { error: 'the flow did not start (a node type missing?)' }),
  job.timeoutMs);
RED.events.once('flows:started', () => {
  clearTimeout(notStarted);
  setImmediate(async () => {
    for (const [nodeId, store] of Object.entries(job.context || {})) {
      const node = RED.nodes.getNode(nodeId);
      for (const [scope, values] of Object.entries(store)) {
        const ctx = scope === 'node' ? node.context() : node.context()[scope];
        for (const [key, value] of Object.entries(values)) ctx.set(key, value);
      }
    }
    const started = Date.now();
    for (const input of job.inputs) {
      if (input.afterMs) await new Promise((resolve) => setTimeout(resolve, input.afterMs));
      const node = RED.nodes.getNode(input.node);
      if (!node) return finish(2, { error: `no node ${input.node}` });
      node.receive(revive(input.msg));
    }
    lastArrival = Date.now();
    const timer = setInterval(() => {
      const now = Date.now();
      if (now - lastArrival >= job.quietMs || now - started >= job.timeoutMs) {
        clearInterval(timer);
        finish(0, {});
      }
    }, 5);
  });
});
RED.start().catch((err) => finish(3, { error: String(err && err.stack || err) }));
