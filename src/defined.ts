// Options as the package reads them: a field given as undefined takes its default, as a field left out does, so
// that callers under exactOptionalPropertyTypes can pass `{ timeoutMs: maybe }` without spreading conditionally.

/** `value`'s fields that are not undefined, to spread over the defaults. */
export const defined = <T extends object>(value: T | undefined): Partial<T> =>
  Object.fromEntries(Object.entries({ ...value }).filter((field) => field[1] !== undefined)) as Partial<T>;
