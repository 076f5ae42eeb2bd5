// A node type for tests/node_red_runner.js: keeps every message it receives, by its id.
'use strict';
module.exports = function (RED) {
  function Collector(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    node.on('input', (msg, send, done) => {
      globalThis.portlessCollected.push({ collector: node.id, msg: RED.util.cloneMessage(msg) });
      globalThis.portlessArrived();
      done();
    });
  }
  RED.nodes.registerType('portless-collector', Collector);
};
