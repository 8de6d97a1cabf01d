// Where the token of each request comes from: the token source read once at the request's start, and one shared
// refresh after a 401/190.
import { WhatsAppTokenError } from "./errors.js";

/** An access token, or a function read on every request that returns one. */
export type AccessTokenSource = string | (() => string | Promise<string>);

export class Tokens {
  /** Counts refreshes; a request that saw an older generation takes the new token instead of refreshing again. */
  generation = 0;
  private refreshing: Promise<string> | undefined;
  /**
   * The token the last refresh replaced, and its replacement. A token function may go on returning the rejected
   * token for a while (a cache, a vault not yet rotated); the replacement is sent instead until it returns
   * another one.
   */
  private replaced: { rejected: string; replacement: string } | undefined;

  constructor(
    public source: AccessTokenSource,
    readonly refresh: (() => Promise<string>) | undefined,
  ) {}

  /** The token for a request starting now: a string at once, a promise only when the source is async. */
  read(): string | Promise<string> {
    const source = this.source;
    let value: string | Promise<string>;
    try {
      value = typeof source === "string" ? source : source();
    } catch (cause) {
      throw tokenFunctionFailed(cause);
    }
    if (typeof value === "string") return this.standIn(checkToken(value));
    return Promise.resolve(value).then(
      (token) => this.standIn(checkToken(token)),
      (cause: unknown) => {
        throw tokenFunctionFailed(cause);
      },
    );
  }

  private standIn(token: string): string {
    return this.replaced && token === this.replaced.rejected ? this.replaced.replacement : token;
  }

  /**
   * One refresh for all requests in flight: a request whose token is older than the last refresh takes the
   * refreshed token; otherwise it joins the refresh under way or starts one. The refresh is bounded by the
   * deadline of the request that started it (`bound`), so that a refresh function that never settles cannot keep
   * every later 401 waiting: the next one starts a new refresh.
   */
  refreshed(seenGeneration: number, rejected: string, bound: Promise<never>): string | Promise<string> {
    if (this.generation > seenGeneration) return this.read();
    if (!this.refreshing) {
      const refresh = this.refresh!;
      this.refreshing = Promise.race([Promise.resolve().then(refresh), bound])
        .then((token) => {
          checkToken(token);
          this.replaced = { rejected, replacement: token };
          this.generation += 1;
          // A token string is replaced by the refreshed one; a token function stays the source of tokens.
          if (typeof this.source === "string") this.source = token;
          return token;
        })
        .finally(() => {
          this.refreshing = undefined;
        });
    }
    return this.refreshing;
  }
}

// The failure of a user's token function may carry the token in its message; keep only its name.
function tokenFunctionFailed(cause: unknown): WhatsAppTokenError {
  return new WhatsAppTokenError("The accessToken function failed", {
    cause: new Error(cause instanceof Error ? `${cause.name} thrown by the token function` : "non-Error thrown by the token function"),
  });
}

function checkToken(token: unknown): string {
  if (typeof token !== "string" || token.length === 0) {
    throw new WhatsAppTokenError(`The access token must be a non-empty string, got ${token === "" ? "an empty string" : typeof token}`);
  }
  // Control characters or spaces would make the Authorization header invalid, and fetch's error would quote it.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new WhatsAppTokenError("The access token contains spaces, line breaks or non-ASCII characters");
  }
  return token;
}
