// Named exports of a module gathered into an object, as `torch` and the Tensor methods are.
// `{ eq: compare.eq }` would make each property a declaration of its own, without the function's
// doc comment: editors showed nothing on `x.sum()` or `torch.tidy()`, and the API reference had no
// text for such methods. A `Pick` keeps each property declared by the function itself.

/** The members `keys` of `source`, each still declared (and documented) where `source` declares it. */
export function pick<T extends object, K extends keyof T>(source: T, ...keys: K[]): Pick<T, K> {
  const picked = {} as Pick<T, K>;
  for (const key of keys) picked[key] = source[key];
  return picked;
}
