// Runs Node-RED's own RED.util on the cases that tests/runtime/test_properties_node_red.py
// sends as JSON on stdin ({util, cases}); prints one JSON result per case.
'use strict';
const fs = require('fs');
const { util: utilPath, cases } = JSON.parse(fs.readFileSync(0, 'utf8'));
const util = require(utilPath);

function outcome(run) {
  try {
    return run();
  } catch (err) {
    return { throws: String(err.message || err) };
  }
}

const results = cases.map((c) => outcome(() => {
  if (c.op === 'parse') {
    // As getMessageProperty reads a path: without a leading "msg.".
    const path = c.path.indexOf('msg.') === 0 ? c.path.substring(4) : c.path;
    return { parts: util.normalisePropertyExpression(path) };
  }
  if (c.op === 'get') {
    const value = util.getMessageProperty(c.msg, c.path);
    if (typeof value === 'function') return { function: true };
    return value === undefined ? { missing: true } : { value };
  }
  // set, or delete (setMessageProperty with undefined, as the change node deletes)
  const value = c.op === 'delete' ? undefined : c.value;
  const msg = c.msg;
  const result = outcome(() => util.setMessageProperty(msg, c.path, value));
  return { result, after: JSON.parse(JSON.stringify(msg)) };
}));
process.stdout.write(JSON.stringify(results));
