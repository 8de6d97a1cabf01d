/**
 * Where the client writes request summaries. Every method is optional, so `console` works, and so does a pino
 * or winston logger. Summaries carry the action, call id, status, attempt and duration; never headers, bodies,
 * tokens or SDP.
 */
export interface Logger {
  debug?(message: string, details?: Record<string, unknown>): void;
  info?(message: string, details?: Record<string, unknown>): void;
  warn?(message: string, details?: Record<string, unknown>): void;
  error?(message: string, details?: Record<string, unknown>): void;
}

export type LogLevel = keyof Logger;

/** Calls the logger without letting a broken logger break a call. */
export function log(logger: Logger | undefined, level: LogLevel, message: string, details?: Record<string, unknown>) {
  try {
    logger?.[level]?.(message, details);
  } catch {
    // A logger that throws must not turn a successful call into a failed one.
  }
}

const REDACTED = "[redacted]";

/**
 * A deep copy of `value` in which every occurrence of a secret inside a string is replaced. Used on anything
 * taken from an answer (error messages, details, bodies) before it lands in an error: a server that echoes the
 * token back must not make the token leak through our errors.
 */
export function redactSecrets<T>(value: T, secrets: readonly (string | undefined)[]): T {
  const needles = secrets.filter((secret): secret is string => typeof secret === "string" && secret.length >= 4);
  if (needles.length === 0) return value;
  const scrub = (node: unknown): unknown => {
    if (typeof node === "string") return needles.reduce((text, needle) => text.split(needle).join(REDACTED), node);
    if (Array.isArray(node)) return node.map(scrub);
    if (node !== null && typeof node === "object") {
      return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, scrub(item)]));
    }
    return node;
  };
  return scrub(value) as T;
}
