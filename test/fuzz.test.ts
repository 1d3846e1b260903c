// The seeded fuzzer of the public API (test/support/fuzz.js), in child processes so that a crash
// shows as a process that did not exit normally; and the command line given bad arguments. The
// long form (10,000+ cases) is `npm run bench fuzz`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const fuzzer = path.join(__dirname, 'support', 'fuzz.js');
const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');

interface FuzzSummary {
  cases: number;
  returned: number;
  threw: number;
  failures: string[];
}

describe('fuzzing', () => {
  test('2,000 seeded calls with wrong types, shapes, dtypes, devices, disposed tensors, NaN and huge sizes: each returns or throws an Error of the library, none crashes', () => {
    let cases = 0;
    for (const seed of [1, 2, 3, 4]) {
      const child = spawnSync(process.execPath, [fuzzer, String(seed), '500'], { encoding: 'utf8', timeout: 120_000 });
      expect([seed, child.signal, child.status]).toEqual([seed, null, 0]);
      const summary = JSON.parse(child.stdout) as FuzzSummary;
      expect(summary.failures).toEqual([]);
      expect(summary.returned + summary.threw).toBe(500);
      expect(summary.threw).toBeGreaterThan(250);
      cases += summary.cases;
    }
    console.log(`fuzzer: ${cases} cases in 4 child processes, none crashed, every error from the library's checks`);
    expect(cases).toBe(2000);
  }, 300_000);

  test('the command line given bad arguments exits with an error message, never a crash', () => {
    // Whatever a case writes goes to a fresh folder of its own, never a fixed path shared with other runs.
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-fuzz-cli-'));
    const out = path.join(scratch, 'out');
    const cases = [
      ['train', '--data'],
      ['train', '--data', '/nonexistent', '--out', out, '--steps', '-3'],
      ['predict', '--model', '/nonexistent', '--out', out, 'a.png'],
      ['eval', '--pred', '/etc/passwd', '--truth', '/etc'],
      ['augment', '/etc/passwd', '--out', path.join(scratch, 'augment')],
      ['weightmap', '/dev/null', '--out', path.join(scratch, 'x.npy')],
      ['compare', '--preset', 'nonexistent'],
      ['info', '--colour'],
      ['start', '--minutes', 'soon'],
      ['train', '--data', '/tmp', '--out', out, '--tile', '1e9'],
    ];
    for (const args of cases) {
      const child = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
      expect([args.join(' '), child.signal]).toEqual([args.join(' '), null]);
      expect([args.join(' '), child.status === 1 || child.status === 2]).toEqual([args.join(' '), true]);
      expect(child.stderr).toMatch(/unet|usage/);
    }
    fs.rmSync(scratch, { recursive: true, force: true });
  }, 300_000);
});
