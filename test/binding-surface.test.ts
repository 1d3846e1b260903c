// The binding surface has one shape in three places: the addon's exports (native/*.cc define
// calls), the NativeAddon interface (lib/native.ts) and the TypeScript that calls them. This
// keeps them equal: every export is declared, every declaration exported, every export used.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { native } from '../lib/native';

const root = path.join(__dirname, '..');

function sources(folder: string, extension: string): string[] {
  return fs
    .readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith(extension))
    .map((file) => path.join(folder, file));
}

function declaredNames(): string[] {
  const text = fs.readFileSync(path.join(root, 'lib', 'native.ts'), 'utf8');
  const start = text.indexOf('export interface NativeAddon {');
  const body = text.slice(start, text.indexOf('\n}\n', start));
  return [...body.matchAll(/^ {2}(\w+)\(/gm)].map((match) => match[1]!);
}

describe('the binding surface', () => {
  test("the addon's exports are exactly NativeAddon's members", () => {
    const exported = Object.keys(native).sort();
    const declared = declaredNames().sort();
    expect(exported.filter((name) => !declared.includes(name))).toEqual([]);
    expect(declared.filter((name) => !exported.includes(name))).toEqual([]);
    // And each native define() (or the unary and binary helpers over it) names one of them, once.
    const defined = sources(path.join(root, 'native'), '.cc').flatMap((file) =>
      [
        ...fs.readFileSync(file, 'utf8').matchAll(/(?:define|unary|unaryInPlace|binary|binaryInPlace)(?:<[^>]*>)?\(env, exports, "(\w+)"/g),
      ].map((m) => m[1]!),
    );
    expect(new Set(defined).size).toBe(defined.length);
    expect(defined.sort()).toEqual(exported);
  });

  test('every export is called from lib/', () => {
    const code = sources(path.join(root, 'lib'), '.ts')
      .filter((file) => !file.endsWith(path.join('lib', 'native.ts')))
      .map((file) => fs.readFileSync(file, 'utf8'))
      .join('\n');
    const unused = Object.keys(native).filter(
      (name) => !new RegExp(`native\\.${name}\\b`).test(code) && name !== 'setOutOfMemoryErrorClass',
    );
    expect(unused).toEqual([]);
  });
});
