'use strict';
// Shared by the benchmarks: the reference Python, and a Markdown table printer.
const path = require('node:path');

function referencePython() {
  const record = require(path.join(__dirname, '..', 'build', 'libtorch.json'));
  return record.python ?? path.join(__dirname, '..', '.venv', 'bin', 'python');
}

function printTable(header, rows) {
  const lines = [header, header.map(() => '---'), ...rows];
  for (const line of lines) console.log(`| ${line.join(' | ')} |`);
}

module.exports = { referencePython, printTable };
