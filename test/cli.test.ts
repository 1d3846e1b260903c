import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';

const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');

describe('unet command line', () => {
  test('unet info --json describes the libtorch in use', () => {
    const facts = JSON.parse(execFileSync(process.execPath, [cli, 'info', '--json'], { encoding: 'utf8' })) as Record<string, unknown>;
    expect(facts.libtorchVersion).toMatch(/^2\.\d+\.\d+/);
    expect(typeof facts.libtorchPath).toBe('string');
    expect(typeof facts.cudaBuild).toBe('boolean');
    expect(facts.threads).toBeGreaterThan(0);
  });

  test('unet info prints a table', () => {
    const text = execFileSync(process.execPath, [cli, 'info'], { encoding: 'utf8' });
    expect(text).toMatch(/^libtorch\s+2\.\d+/m);
    expect(text).toMatch(/^CUDA build\s+(yes|no)/m);
  });

  test('an unknown verb or option is an error with usage', () => {
    const unknown = spawnSync(process.execPath, [cli, 'frobnicate'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    const badOption = spawnSync(process.execPath, [cli, 'info', '--colour'], { encoding: 'utf8' });
    expect(badOption.status).toBe(1);
    expect(badOption.stderr).toMatch(/Unknown option '--colour'/);
  });

  test('unet demo runs and frees everything', () => {
    const text = execFileSync(process.execPath, [cli, 'demo'], { encoding: 'utf8' });
    expect(text).toMatch(/live tensors after tidy\(\): 0/);
  });
});
