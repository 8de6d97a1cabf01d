/**
 * Where the client writes request summaries. Every method is optional, so `console` works, and so do pino and
 * winston loggers. Summaries carry the action, call id, status, attempt and duration; never headers, bodies,
 * tokens or SDP.
 *
 * Two conventions are understood: `(message, details)` (console, winston) and `(details, message)` (pino, and
 * anything else with pino's `bindings()` method, such as its child loggers).
 */
export interface Logger {
  debug?(message: string, details?: Record<string, unknown>): void;
  info?(message: string, details?: Record<string, unknown>): void;
  warn?(message: string, details?: Record<string, unknown>): void;
  error?(message: string, details?: Record<string, unknown>): void;
}

export type LogLevel = keyof Logger;
export type Log = (level: LogLevel, message: string, details?: Record<string, unknown>) => void;

/** A log function for the logger, or undefined without one (so that callers build no summaries for nobody). */
export function createLog(logger: Logger | undefined): Log | undefined {
  if (!logger) return undefined;
  // pino reads a first argument that is an object as the fields and the second as the message; given
  // (message, details) it would treat details as printf arguments and drop them.
  const objectFirst = typeof (logger as { bindings?: unknown }).bindings === "function";
  return (level, message, details) => {
    try {
      const method = logger[level] as ((...args: unknown[]) => void) | undefined;
      if (objectFirst) method?.call(logger, details ?? {}, message);
      // Without details, the message alone: console would print a literal "undefined" after it.
      else if (details === undefined) method?.call(logger, message);
      else method?.call(logger, message, details);
    } catch {
      // A logger that throws must not turn a successful call into a failed one.
    }
  };
}

/** One call of a logger, in its convention (for code that logs rarely; hot paths keep a createLog()). */
export function log(logger: Logger | undefined, level: LogLevel, message: string, details?: Record<string, unknown>) {
  createLog(logger)?.(level, message, details);
}

const REDACTED = "[redacted]";
/** Deeper than this, a value taken from an answer is replaced: it is no Graph error, and walking it has no end. */
export const MAX_REDACTION_DEPTH = 32;
const TOO_DEEP = "[nested too deep]";

/**
 * A copy of `value` in which every occurrence of a secret inside a string, keys included, is replaced, and
 * anything nested deeper than MAX_REDACTION_DEPTH is cut. Used on everything taken from an answer before it lands
 * in an error: a server that echoes the token back must not make the token leak through our errors, and a body
 * nested 100,000 deep must not overflow the stack.
 */
export function redactSecrets<T>(value: T, secrets: readonly (string | undefined)[]): T {
  const needles = secrets.filter((secret): secret is string => typeof secret === "string" && secret.length >= 4);
  const text = (node: string) => needles.reduce((result, needle) => result.split(needle).join(REDACTED), node);
  const scrub = (node: unknown, depth: number): unknown => {
    if (typeof node === "string") return text(node);
    if (node === null || typeof node !== "object") return node;
    if (depth >= MAX_REDACTION_DEPTH) return TOO_DEEP;
    if (Array.isArray(node)) return node.map((item) => scrub(item, depth + 1));
    return Object.fromEntries(Object.entries(node).map(([key, item]) => [text(key), scrub(item, depth + 1)]));
  };
  return scrub(value, 0) as T;
}
