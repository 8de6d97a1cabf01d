// The few globals of Deno and Bun that the examples use, declared as those runtimes document them, so that the
// examples type-check without the runtimes' full type packages. Workers need none: a Worker is
// `export default { fetch }` over the web-standard Request and Response.

declare namespace Deno {
  const env: { get(key: string): string | undefined };
  /** What `deno serve` runs: the default export's `fetch`. */
  interface ServeDefaultExport {
    fetch(request: Request, info: unknown): Response | Promise<Response>;
  }
}

declare const Bun: {
  env: Record<string, string | undefined>;
  serve(options: {
    port?: number;
    hostname?: string;
    fetch(request: Request): Response | Promise<Response>;
  }): { url: URL; stop(): void };
};
