// What an editor shows on hover: every `torch.*` function and every Tensor method carries the doc
// comment of the function it comes from. A member written as `{ sum: reduce.sum }` would be a
// declaration of its own, with no comment (47 Tensor methods and 31 `torch` members were, before
// lib/pick.ts). `npm run docs` checks the API reference; this checks what TypeScript itself sees.
import * as path from 'node:path';
import * as ts from 'typescript';
import { torch } from '../lib';
import { tensorMethods } from '../lib/methods';

/** The `torch` functions and Tensor methods with no doc comment where an editor looks (a virtual file that uses each). */
function undocumented(): { torch: string[]; tensor: string[] } {
  const probe = path.join(__dirname, '..', 'lib', 'doc-comments.probe.ts');
  const functions = Object.keys(torch).filter((name) => typeof (torch as Record<string, unknown>)[name] === 'function');
  const text = [
    "import { torch } from './index';",
    'const x = torch.zeros([1]);',
    ...functions.map((name) => `torch.${name};`),
    ...Object.keys(tensorMethods).map((name) => `x.${name};`),
  ].join('\n');
  const options: ts.CompilerOptions = { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, skipLibCheck: true };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (file) => file === probe || ts.sys.fileExists(file);
  host.readFile = (file) => (file === probe ? text : readFile(file));
  host.getSourceFile = (file, language) => (file === probe ? ts.createSourceFile(file, text, language) : getSourceFile(file, language));
  const program = ts.createProgram([probe], options, host);
  const checker = program.getTypeChecker();
  const found = { torch: [] as string[], tensor: [] as string[] };
  for (const statement of program.getSourceFile(probe)!.statements) {
    if (!ts.isExpressionStatement(statement) || !ts.isPropertyAccessExpression(statement.expression)) continue;
    const access = statement.expression;
    const symbol = checker.getSymbolAtLocation(access.name);
    const doc = symbol ? ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim() : '';
    if (doc === '') (access.expression.getText() === 'x' ? found.tensor : found.torch).push(access.name.text);
  }
  return found;
}

test('every torch function and every Tensor method shows its doc comment in an editor', () => {
  expect(undocumented()).toEqual({ torch: [], tensor: [] });
});
