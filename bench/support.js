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

/**
 * Runs the two sides one after the other, `rounds` times, so that a slow spell of a shared
 * machine does not fall on one side only. Returns each side's results with the smallest value
 * of every timing key across its rounds (other keys from its last round).
 */
function alternate(rounds, timingKeys, measureOurs, measurePython) {
  const keepBest = (best, run) =>
    best === undefined ? run : { ...run, ...Object.fromEntries(timingKeys.map((key) => [key, Math.min(best[key], run[key])])) };
  let ours;
  let theirs;
  for (let round = 0; round < rounds; round += 1) {
    ours = keepBest(ours, measureOurs());
    theirs = keepBest(theirs, measurePython());
  }
  return { ours, theirs };
}

module.exports = { referencePython, printTable, alternate };
