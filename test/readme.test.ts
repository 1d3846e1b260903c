// docs/operations.md's list of operations and docs/cli.md are generated from the code; these fail
// when they are stale, or when a link of the Markdown files leads nowhere.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

test('docs/operations.md lists exactly the operations the code exports', () => {
  const script = path.join(__dirname, '..', 'scripts', 'api-list.js');
  expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
});

test("docs/cli.md is the command line's own help, current", () => {
  const script = path.join(__dirname, '..', 'scripts', 'cli-docs.js');
  expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
});

test('every relative link of the Markdown files names a file and a heading that exist', () => {
  const script = path.join(__dirname, '..', 'scripts', 'doc-links.js');
  expect(() => execFileSync(process.execPath, [script], { stdio: 'pipe' })).not.toThrow();
  // On a small tree of its own: each broken link is named with its file and line, fences are not links.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-doc-links-'));
  try {
    fs.mkdirSync(path.join(root, 'docs'));
    fs.writeFileSync(
      path.join(root, 'docs', 'b.md'),
      '# B\n\n## The `weightMap` option, again\n\n## Twice\n\n## Twice\n\n<a id="kept"></a>\n',
    );
    fs.writeFileSync(
      path.join(root, 'a.md'),
      [
        '[fine](docs/b.md#the-weightmap-option-again) [repeat](docs/b.md#twice-1) [id](docs/b.md#kept) [web](https://example.org/x#y)',
        '[gone](docs/c.md) [no heading](docs/b.md#three)',
        '```sh',
        '[in a fence](nowhere.md)',
        '```',
        '[self](#nothing-here)',
      ].join('\n'),
    );
    execFileSync('git', ['init', '-q'], { cwd: root });
    execFileSync('git', ['add', '.'], { cwd: root });
    const result = spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      '3 broken links in the Markdown files:',
      'a.md:2: docs/c.md: no such file',
      "a.md:2: docs/b.md#three: docs/b.md has no heading or anchor 'three'",
      "a.md:6: #nothing-here: a.md has no heading or anchor 'nothing-here'",
    ]);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
