// The errors every entry point throws: the base class and the refusal of a bad argument. The errors of the
// request path (a Graph error, a timeout, …) are in src/client/errors.ts with the code catalogue they read, so
// that whatsapp-calling/webhooks does not load them.
//
// Each entry point of dist/ is one self-contained file (scripts/build.ts), so a class used by two of them exists
// twice: `instanceof` below matches the package's classes by name, so that an error that ./media or
// ./redis throws is still `instanceof` the class that . or ./webhooks exports (and so across two installed
// copies of the package).

/** Marks the package's error classes, every copy of them: a static member, inherited by each subclass. */
const PACKAGE_ERROR = Symbol.for("whatsapp-calling.error");

/** The base of every error this package throws, so that `catch (e) { if (e instanceof WhatsAppError) … }` covers them all. */
export class WhatsAppError extends Error {
  // Each class names itself: dist/ is minified, class names included, and without its own name a class would print
  // as `m [WhatsAppError]` in util.inspect and console.error. A static field, not a call, so that bundlers can
  // still drop the classes a bundle does not use.
  static override name = "WhatsAppError";
  static readonly [PACKAGE_ERROR] = true;
  override name = packageName(this.constructor);
  /** Set when `answer()` failed: the step that failed. */
  declare step?: AnswerStep;
  /**
   * Set when `answer()` sent `terminate` after failing (after `pre_accept` got through, or when `pre_accept` ended
   * without a clear answer): whether that terminate got through. Absent when `pre_accept` was refused.
   */
  declare callTerminated?: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }

  /**
   * What `JSON.stringify(error)` gives, as a JSON logger writes it: the name, the message (not enumerable on an
   * Error, so otherwise lost) and the error's fields. The cause is left out: it is not the package's to vouch for.
   */
  toJSON(): object {
    return Object.assign({ name: this.name, message: this.message }, this);
  }

  /**
   * `error instanceof X`: X's prototype is in the error's chain, as usual, or the chain has a class of this
   * package (another bundle's copy) that names itself as X does. A user's subclass that does not name itself
   * matches its own instances only.
   */
  static override [Symbol.hasInstance]<T>(this: abstract new (...args: never) => T, value: unknown): value is T {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    const name = ownName(this);
    if (name === undefined || typeof value !== "object" || value === null) return false;
    for (let prototype = Object.getPrototypeOf(value) as object | null; prototype !== null; prototype = Object.getPrototypeOf(prototype)) {
      const type = Object.hasOwn(prototype, "constructor") ? (prototype as { constructor: unknown }).constructor : undefined;
      if (typeof type === "function" && (type as { [PACKAGE_ERROR]?: unknown })[PACKAGE_ERROR] === true && ownName(type) === name) return true;
    }
    return false;
  }
}

/** The name a class gives itself with a static field (enumerable, where a function's own `name` is not). */
function ownName(type: Function): string | undefined {
  return Object.getOwnPropertyDescriptor(type, "name")?.enumerable ? type.name : undefined;
}

/**
 * The name of the nearest class that names itself with a static field (enumerable, where a function's own `name`
 * is not): the package's classes, and a user's subclass that does the same. A user's subclass that does not (an
 * anonymous one, or one a minifier renamed) keeps the package's name, as a subclass of Error keeps "Error".
 */
function packageName(type: Function): string {
  for (let named = type; named !== null; named = Object.getPrototypeOf(named)) {
    const name = ownName(named);
    if (name !== undefined) return name;
  }
  return "WhatsAppError";
}

/** The steps of `answer()`: the two requests, and the `afterPreAccept` hook between them. */
export type AnswerStep = "pre_accept" | "after_pre_accept" | "accept";

/** The call that was being made when an error happened, as far as the package knows it. */
export interface RequestContext {
  /**
   * Which request: a call's action on the wire (`connect`, `pre_accept`, `accept`, `reject`, `terminate`), or the
   * name of the method or function that sent it (`getCallPermissions`, `updateCallingSettings`, `sendCallButton`,
   * `downloadMedia`, …).
   */
  readonly action?: string;
  readonly callId?: string;
  /** HTTP method and path, without query string or host. */
  readonly method?: string;
  readonly path?: string;
  /** 1 for the first try. */
  readonly attempt?: number;
}

/**
 * An argument was wrong before anything was sent: a missing call id, an SDP that is not an SDP, a
 * `bizOpaqueCallbackData` over 512 characters. `path` is the JSON pointer of the offending request field.
 */
export class WhatsAppValidationError extends WhatsAppError {
  static override name = "WhatsAppValidationError";
  readonly path: string;
  readonly action: string | undefined;
  constructor(message: string, init: { path?: string; action?: string } = {}) {
    super(message);
    this.path = init.path ?? "";
    this.action = init.action;
  }
}
