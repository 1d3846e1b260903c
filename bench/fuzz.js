'use strict';
// The long form of the fuzzer: 20 child processes of 1,000 seeded cases each (see
// test/support/fuzz.js); every case must return or throw an Error from the library's checks,
// and no process may crash.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { printTable } = require('./support');

const BATCHES = 20;
const PER_BATCH = 1000;
/** @type {{ cases: number, returned: number, threw: number, failures: unknown[], crashes: number }} */
const totals = { cases: 0, returned: 0, threw: 0, failures: [], crashes: 0 };
const start = Date.now();
for (let seed = 1000; seed < 1000 + BATCHES; seed += 1) {
  const child = spawnSync(process.execPath, [path.join(__dirname, '..', 'test', 'support', 'fuzz.js'), String(seed), String(PER_BATCH)], {
    encoding: 'utf8',
  });
  if (child.status !== 0 || child.signal !== null) {
    totals.crashes += 1;
    console.log(`seed ${seed}: the process ended with ${child.signal ?? `status ${child.status}`}\n${child.stderr.slice(-2000)}`);
    continue;
  }
  const summary = JSON.parse(child.stdout);
  for (const key of /** @type {const} */ (['cases', 'returned', 'threw'])) totals[key] += summary[key];
  totals.failures.push(...summary.failures);
}
printTable(
  ['cases', 'returned', 'threw a library error', 'other failures', 'crashed processes', 'seconds'],
  [
    [
      String(totals.cases),
      String(totals.returned),
      String(totals.threw),
      String(totals.failures.length),
      String(totals.crashes),
      ((Date.now() - start) / 1000).toFixed(0),
    ],
  ],
);
for (const failure of totals.failures.slice(0, 20)) console.log(`  ${failure}`);
if (totals.failures.length > 0 || totals.crashes > 0) process.exitCode = 1;
