// The README's list of operations is generated from the code; this fails when it is stale.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

test('the README lists exactly the operations the code exports', () => {
  const script = path.join(__dirname, '..', 'scripts', 'api-list.js');
  expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
});
