'use strict';
// `node scripts/doc-links.js [ROOT]`: every relative link of the Markdown files git tracks under
// ROOT (default: the package) must name a file that exists and, after '#', a heading of that file
// (GitHub's anchors: lower case, punctuation but '-' and '_' dropped, spaces to hyphens, repeats
// numbered) or an `<a id="…">` in it. Prints each broken link with its file and line; exits 1 if
// there is one. Links inside fenced code blocks are not links.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(process.argv[2] ?? path.join(__dirname, '..'));

/** The text of a Markdown file without its fenced code blocks, keeping its line count. */
function prose(file) {
  return fs.readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, (block) => block.replace(/[^\n]/g, ''));
}

/** GitHub's anchor of a heading's text. */
function slug(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** @type {Map<string, Set<string>>} */
const anchorsOf = new Map();
function anchors(file) {
  let found = anchorsOf.get(file);
  if (found) return found;
  found = new Set();
  /** @type {Map<string, number>} */
  const seen = new Map();
  const text = prose(file);
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.*)$/gm)) {
    const base = slug(/** @type {string} */ (heading));
    const count = seen.get(base) ?? 0;
    found.add(count === 0 ? base : `${base}-${count}`);
    seen.set(base, count + 1);
  }
  for (const [, id] of text.matchAll(/<a (?:id|name)="([^"]+)"/g)) found.add(/** @type {string} */ (id));
  anchorsOf.set(file, found);
  return found;
}

const files = execFileSync('git', ['ls-files', '-z', '--', '*.md'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter((name) => name !== '' && fs.existsSync(path.join(root, name)));
const broken = [];
for (const name of files) {
  const file = path.join(root, name);
  prose(file)
    .split('\n')
    .forEach((line, index) => {
      for (const [, target] of line.matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = /** @type {string} */ (target);
        if (/^[a-z][a-z+.-]*:/i.test(link)) continue; // http:, https:, mailto:
        const [where, anchor] = link.split('#', 2);
        const linked = where ? path.resolve(path.dirname(file), decodeURIComponent(where)) : file;
        const at = `${name}:${index + 1}`;
        if (!fs.existsSync(linked)) broken.push(`${at}: ${link}: no such file`);
        else if (anchor && linked.endsWith('.md') && !anchors(linked).has(anchor))
          broken.push(`${at}: ${link}: ${path.relative(root, linked)} has no heading or anchor '${anchor}'`);
      }
    });
}
if (broken.length > 0) {
  console.error(`${broken.length} broken link${broken.length === 1 ? '' : 's'} in the Markdown files:\n${broken.join('\n')}`);
  process.exit(1);
}
console.log(`doc-links: ${files.length} Markdown files, every relative link resolves`);
