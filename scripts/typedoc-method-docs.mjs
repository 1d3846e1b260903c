// TypeDoc plugin: a function that the API exposes under another name or shape (a Tensor method
// from lib/methods.ts, a `torch.*` member picked from a module, `torch.var`) is documented by the
// comment of the declaration it comes from. TypeDoc reads such a member as a property whose type
// is a function type, and looks for the comment on the property alone: the API reference showed
// the Tensor methods without a word, and the `notDocumented` check could not pass. Editors already
// follow the declaration (lib/pick.ts keeps it); this makes the reference say what they say.
import { Converter, ReflectionKind, ReflectionType } from 'typedoc';
import ts from 'typescript';

/** The export that renames the function `declaration` to `name` (`export { variance as var }`). */
function renamingExport(declaration, name) {
  for (const statement of declaration.getSourceFile().statements) {
    if (!ts.isExportDeclaration(statement) || !statement.exportClause || !ts.isNamedExports(statement.exportClause)) continue;
    const specifier = statement.exportClause.elements.find(
      (element) => element.name.text === name && element.propertyName?.getText() === declaration.name?.text,
    );
    if (specifier) return specifier;
  }
  return undefined;
}

/** The comment of the function, or of the export renaming it, that declares the member `name`. */
function declaredComment(context, symbol, name) {
  for (const declaration of symbol?.declarations ?? []) {
    if (ts.isExportSpecifier(declaration)) return context.getNodeComment(declaration, false);
    if (!ts.isFunctionDeclaration(declaration)) continue;
    const renaming = declaration.name?.text === name ? undefined : renamingExport(declaration, name);
    return renaming ? context.getNodeComment(renaming, false) : context.getSignatureComment(declaration);
  }
  return undefined;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  // TypeDoc reads comments only while a member's source file is being converted, and a member's
  // type is complete only once all are: read them at creation, place them at resolution.
  const declared = new Map();
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    // A class without a comment of its own is shown with its base class's (nn.ReLU read "Base
    // class of every layer and model"), which `notDocumented` counts as documented.
    if (reflection.kindOf(ReflectionKind.Class)) {
      const declaration = context.getSymbolFromReflection(reflection)?.declarations?.find(ts.isClassDeclaration);
      if (declaration && ts.getJSDocCommentsAndTags(declaration).length === 0)
        app.logger.warn(`${reflection.getFullName()} (Class) has no doc comment of its own: the reference would show its base class's`);
      return;
    }
    if (!reflection.kindOf(ReflectionKind.Property | ReflectionKind.Method) || reflection.comment) return;
    const comment = declaredComment(context, context.getSymbolFromReflection(reflection), reflection.name);
    if (comment) declared.set(reflection, comment);
  });
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const reflection of context.project.getReflectionsByKind(ReflectionKind.Property | ReflectionKind.Method)) {
      const signatures = (reflection.type instanceof ReflectionType ? reflection.type.declaration.signatures : reflection.signatures) ?? [];
      if (reflection.comment || signatures.length === 0) continue;
      const documented = signatures.find((signature) => signature.comment);
      if (reflection.kindOf(ReflectionKind.Method)) {
        // A method's text lives on its signatures; one renamed by an export has none there yet.
        if (!documented && declared.has(reflection)) signatures[0].comment = declared.get(reflection);
      } else if (documented) {
        // A function-typed property: its text moves from the signature up to the property, where
        // the reference shows it and the check looks for it (once, not twice).
        reflection.comment = documented.comment;
        documented.comment = undefined;
      } else if (declared.has(reflection)) {
        reflection.comment = declared.get(reflection);
      }
    }
    declared.clear();
  });
}
