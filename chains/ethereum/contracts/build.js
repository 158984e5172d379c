// build.js compiles the Solidity sources beside it with solc-js (the npm package 'solc',
// version pinned in build.sh) through its standard-JSON API and writes <Contract>.bin
// (creation bytecode, hex without 0x) and <Contract>.abi.json for every contract.
//
// Usage: node build.js <path to node_modules/solc> <output dir>
'use strict';
const fs = require('fs');
const path = require('path');

const solc = require(process.argv[2]);
const out = process.argv[3];
const dir = __dirname;
const sources = {};
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.sol')).sort()) {
  sources[f] = { content: fs.readFileSync(path.join(dir, f), 'utf8') };
}
const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'cancun',
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
let failed = false;
for (const e of output.errors || []) {
  console.error(e.formattedMessage);
  if (e.severity === 'error') failed = true;
}
if (failed) process.exit(1);
for (const file of Object.keys(output.contracts).sort()) {
  for (const name of Object.keys(output.contracts[file]).sort()) {
    const c = output.contracts[file][name];
    if (c.evm.bytecode.object === '') continue; // an interface: nothing to deploy
    fs.writeFileSync(path.join(out, name + '.bin'), c.evm.bytecode.object + '\n');
    fs.writeFileSync(path.join(out, name + '.abi.json'), JSON.stringify(c.abi, null, 1) + '\n');
  }
}
console.log('solc ' + solc.version() + ': compiled ' + Object.keys(sources).join(', '));
