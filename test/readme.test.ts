// docs/operations.md's list of operations is generated from the code; this fails when it is stale.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

test('docs/operations.md lists exactly the operations the code exports', () => {
  const script = path.join(__dirname, '..', 'scripts', 'api-list.js');
  expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
});

test("docs/cli.md is the command line's own help, current", () => {
  const script = path.join(__dirname, '..', 'scripts', 'cli-docs.js');
  expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
});
