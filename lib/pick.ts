// Named exports of a module gathered into an object, as `torch` and the Tensor methods are.
// `{ eq: compare.eq }` makes each property a declaration of its own, without the function's doc
// comment, so that an editor shows nothing on `x.eq()`; a `Pick` keeps each property declared by
// the function itself (test/doc-comments.test.ts checks every one).

/** The members `keys` of `source`, each still declared (and documented) where `source` declares it. */
export function pick<T extends object, K extends keyof T>(source: T, ...keys: K[]): Pick<T, K> {
  const picked = {} as Pick<T, K>;
  for (const key of keys) picked[key] = source[key];
  return picked;
}
