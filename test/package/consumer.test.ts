// The package as users get it: build dist/, check what `npm pack` ships, install the packed tarball into a fresh
// project the way a user's project installs it (the registry is reachable; the npm cache is preferred, never
// required, so an empty cache works) and use it from TypeScript (node16 and bundler resolution), from plain ESM
// JavaScript against a loopback Graph server, and through require().
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { buildSync } from "esbuild";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/lib/spec.js";

const run = promisify(execFile);
const packageJson = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
  name: string;
  exports: Record<string, string | Record<string, string>>;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};

function sh(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} (in ${cwd}) failed with ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/** Every .ts source under a folder (not .d.ts), relative to the repository. */
function sources(folder: string): string[] {
  return readdirSync(join(repoRoot, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts"))
    .map((entry) => relative(repoRoot, join(entry.parentPath, entry.name)));
}

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

function pack(...args: string[]): PackResult {
  const output = sh("npm", ["pack", "--json", "--ignore-scripts", ...args], repoRoot);
  return (JSON.parse(output) as PackResult[])[0]!;
}

// Build once for the file: the same step as `npm run build` after generate and lint.
beforeAll(() => {
  sh(process.execPath, [join(repoRoot, "node_modules/tsx/dist/cli.mjs"), "scripts/build.ts"], repoRoot);
}, 120_000);

describe("npm pack", () => {
  it("ships dist/ (a bundle per entry point, the sandbox's loaded on demand, the types), openapi.yaml, README, LICENSE and what the README links to (BENCHMARKS.md, CONTRIBUTING.md, examples/); no tests, scripts or sources", () => {
    const { files, size, unpackedSize } = pack("--dry-run");
    const paths = files.map((file) => file.path).sort();

    // The types: a declaration per module, at the paths the modules have in the repository.
    const declarations = [...sources("src"), ...sources("generated")].map((source) => `dist/${source.slice(0, -".ts".length)}.d.ts`);
    // The JavaScript: the bundle of each entry point (the exports map's and the bin's), and the sandbox's, which
    // /testing imports on demand.
    const targets = [...Object.values(packageJson.exports), ...Object.values(packageJson.bin)]
      .flatMap((target) => (typeof target === "string" ? [target] : Object.values(target)))
      .map((target) => target.replace(/^\.\//, ""));
    const bundles = targets.filter((target) => target.endsWith(".js"));
    // The README's relative links resolve in the installed package: the documents and the examples as committed.
    // examples/tsconfig.json is the repository's own (it extends the root tsconfig and maps the package to src/).
    const examples = spawnSync("git", ["ls-files", "examples"], { cwd: repoRoot, encoding: "utf8" })
      .stdout.split("\n")
      .filter((path) => path !== "" && path !== "examples/tsconfig.json");
    expect(examples).toContain("examples/echo-bot/bot.ts");
    const linked = ["BENCHMARKS.md", "CONTRIBUTING.md", ...examples];
    const expected = ["LICENSE", "README.md", "openapi.yaml", "package.json", ...linked, ...declarations, ...new Set(bundles), "dist/src/testing/sandbox/index.js"].sort();
    expect(paths).toEqual(expected);

    // Every file the exports map and the bin point to is in the tarball.
    for (const target of targets) expect(paths, target).toContain(target);
    expect(paths.filter((path) => /(^|\/)(test|scripts)\/|\.test\.|\.map$|^src\/|^generated\//.test(path))).toEqual([]);
    const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
    for (const [, target] of readme.matchAll(/\]\((?!https?:|#)([^)#\s]+)/g)) {
      expect(paths.some((path) => path === target || path.startsWith(`${target!.replace(/\/$/, "")}/`)), target).toBe(true);
    }
    // Sizes, for the log.
    console.log(`npm pack: ${paths.length} files, ${(size / 1024).toFixed(1)} kB packed, ${(unpackedSize / 1024).toFixed(1)} kB unpacked`);
  }, 60_000);
});

/** The files (relative to the repository) and the other modules an ES module of dist/ loads before it runs. */
/**
 * The files `file` loads and the packages it imports, statically (`import("…")`, the sandbox and werift, loads on
 * demand): from esbuild's parse of the files, so that text in a string (a schema's "from" property) is not taken
 * for an import.
 */
function staticImports(file: string) {
  const { metafile } = buildSync({ entryPoints: [file], absWorkingDir: repoRoot, bundle: true, packages: "external", platform: "node", format: "esm", write: false, metafile: true, logLevel: "silent" });
  const files = new Set<string>();
  const others = new Set<string>();
  const visit = (path: string) => {
    if (files.has(path)) return;
    files.add(path);
    for (const { path: imported, kind, external } of metafile.inputs[path]!.imports) {
      if (kind !== "import-statement") continue;
      if (external) others.add(imported);
      else visit(imported);
    }
  };
  visit(file);
  return { files, others };
}

describe("dist/", () => {
  // Each file costs a cold import its resolution, read and link: an entry point is one file (scripts/build.ts).
  const bundles = [...new Set([...Object.values(packageJson.exports), ...Object.values(packageJson.bin)].flatMap((target) => (typeof target === "string" ? [target] : Object.values(target))))]
    .filter((target) => target.endsWith(".js"))
    .map((target) => target.replace(/^\.\//, ""));

  it.each(bundles)("%s loads no other file of the package", (bundle) => {
    expect([...staticImports(bundle).files]).toEqual([bundle]);
  });

  it(". imports no package (openapi-fetch is in its bundle)", () => {
    expect([...staticImports("dist/src/index.js").others]).toEqual([]);
  });

  it("/testing loads neither the sandbox nor Node's modules until startSandbox is called", () => {
    expect([...staticImports("dist/src/testing/index.js").others]).toEqual([]);
    expect(readFileSync(join(repoRoot, "dist/src/testing/index.js"), "utf8")).toContain('import("./sandbox/index.js")');
  });

  it("every entry point's static imports are the package's own files, node: builtins and its dependencies", () => {
    const allowed = [...Object.keys(packageJson.dependencies), ...Object.keys(packageJson.peerDependencies)];
    for (const entry of new Set(Object.values(packageJson.exports).flatMap((target) => (typeof target === "string" ? [] : Object.values(target))))) {
      if (!entry.endsWith(".js")) continue;
      const { others } = staticImports(entry.replace(/^\.\//, ""));
      expect([...others].filter((specifier) => !specifier.startsWith("node:") && !allowed.includes(specifier)), entry).toEqual([]);
    }
  });
});

describe("a project that installs the packed tarball", () => {
  let project: string;
  let server: Server;
  let graphUrl: string;
  const requests: { method: string; url: string; authorization: string | undefined; body: unknown }[] = [];

  beforeAll(async () => {
    project = mkdtempSync(join(tmpdir(), "whatsapp-calling-consumer-"));
    const { filename } = pack("--pack-destination", project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    sh("npm", ["install", `./${filename}`, "--prefer-offline", "--no-audit", "--no-fund", "--no-package-lock"], project);
    // The compiler comes from the repository (same pinned version), linked rather than installed.
    symlinkSync(join(repoRoot, "node_modules", "typescript"), join(project, "node_modules", "typescript"), "dir");

    server = createServer((request, response) => {
      let text = "";
      request.setEncoding("utf8");
      request.on("data", (chunk: string) => (text += chunk));
      request.on("end", () => {
        const body = text ? (JSON.parse(text) as { call_id?: string }) : undefined;
        requests.push({ method: request.method ?? "", url: request.url ?? "", authorization: request.headers.authorization, body });
        response.setHeader("content-type", "application/json");
        if (body?.call_id === "wacid.unknown") {
          response.statusCode = 400;
          response.end(
            JSON.stringify({
              error: {
                message: "(#100) Invalid parameter",
                type: "OAuthException",
                code: 100,
                error_data: { details: "call_id is not a known call" },
                fbtrace_id: "AbCdEf",
              },
            }),
          );
        } else {
          response.end(JSON.stringify({ messaging_product: "whatsapp", success: true }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    graphUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 120_000);

  afterAll(async () => {
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it("installs only the package and its runtime dependency", () => {
    const installed = JSON.parse(readFileSync(join(project, "node_modules", packageJson.name, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(installed.dependencies).toEqual(packageJson.dependencies);
    for (const absent of ["src", "test", "scripts", "generated", "tsconfig.json"]) {
      expect(existsSync(join(project, "node_modules", packageJson.name, absent)), absent).toBe(false);
    }
  });

  it.each([
    ["node16", { module: "node16", moduleResolution: "node16" }],
    ["bundler", { module: "esnext", moduleResolution: "bundler" }],
  ])("type-checks TypeScript that uses the entry points (moduleResolution %s)", async (name, resolution) => {
    writeFileSync(
      join(project, "consumer.ts"),
      `import {
  createCallingClient,
  DEFAULT_API_VERSION,
  WhatsAppApiError,
  WhatsAppError,
  type CallingClientOptions,
  type paths,
} from "whatsapp-calling";
import {
  createWebhookHandler,
  parseWebhook,
  verifySignature,
  verifySubscription,
  WebhookPayloadError,
  WebhookVerificationError,
  type WebhookEvent,
} from "whatsapp-calling/webhooks";
import { downloadMediaBytes, WhatsAppChecksumError, type MediaSource } from "whatsapp-calling/media";
import { signWebhookPayload } from "whatsapp-calling/testing";

const options: CallingClientOptions = {
  phoneNumberId: "117823401562387",
  accessToken: async () => "token",
  apiVersion: DEFAULT_API_VERSION,
  retry: { retries: 1, minDelayMs: 10, maxDelayMs: 100 },
};
const calls = createCallingClient(options);
type ManageCallBody = NonNullable<paths["/{phone-number-id}/calls"]["post"]["requestBody"]>["content"]["application/json"];
export const action: ManageCallBody["action"] = "pre_accept";

export async function answerAndPlace(callId: string, sdpAnswer: string, sdpOffer: string): Promise<string> {
  await calls.preAccept(callId, sdpAnswer);
  await calls.accept(callId, sdpAnswer, { bizOpaqueCallbackData: "agent-1" });
  const { callId: placed } = await calls.connect("15550123456", sdpOffer);
  try {
    await calls.terminate(placed);
  } catch (error) {
    if (error instanceof WhatsAppApiError) {
      const retryable: boolean = error.retryable;
      const code: number | undefined = error.code;
      return \`\${code} \${retryable} \${error.category}\`;
    }
    if (error instanceof WhatsAppError) return error.message;
  }
  return placed;
}

export async function recording(audio: MediaSource): Promise<number> {
  try {
    return (await downloadMediaBytes(calls, audio, { maxBytes: 50_000_000 })).byteLength;
  } catch (error) {
    return error instanceof WhatsAppChecksumError ? -1 : 0;
  }
}

export async function receive(rawBody: string, appSecret: string): Promise<string[]> {
  const header = await signWebhookPayload(rawBody, appSecret);
  if (!(await verifySignature(rawBody, header, [appSecret, "previous-secret"]))) return [];
  try {
    return parseWebhook(rawBody).map((event: WebhookEvent) => (event.type === "call.connect" ? event.callId : event.type));
  } catch (error) {
    return error instanceof WebhookPayloadError ? [error.message] : [];
  }
}

export function handshake(url: URL): string {
  try {
    return verifySubscription(url.searchParams, "verify-token");
  } catch (error) {
    return error instanceof WebhookVerificationError ? String(error.status) : "";
  }
}

export const handler: (request: Request) => Promise<Response> = createWebhookHandler({
  appSecret: "app-secret",
  verifyToken: "verify-token",
  on: { "call.terminate": (event) => console.log(event.callId, event.data.status) },
});

// Under exactOptionalPropertyTypes, an option may be given as undefined (it takes its default).
const maybe: number | undefined = Math.random() > 2 ? 1 : undefined;
export const withUndefined = createCallingClient({ phoneNumberId: "1", accessToken: "t", timeoutMs: maybe, baseUrl: undefined, retry: { retries: maybe } });
void withUndefined.terminate("wacid.x", { timeoutMs: maybe, signal: undefined });
void withUndefined.accept("wacid.x", "v=0", { bizOpaqueCallbackData: undefined, recording: undefined });
export const handlerWithUndefined = createWebhookHandler({ appSecret: "s", verifyToken: "v", onEvent: () => {}, maxBodyBytes: maybe, logger: undefined });

// The types are real, not any:
// @ts-expect-error accessToken is required
createCallingClient({ phoneNumberId: "117823401562387" });
// @ts-expect-error a call id is a string
void calls.reject(42);
// @ts-expect-error the client comes first
void downloadMediaBytes("1");
// @ts-expect-error no such action
export const wrongAction: ManageCallBody["action"] = "hold";
`,
    );
    const tsconfig = `tsconfig.${name}.json`;
    writeFileSync(
      join(project, tsconfig),
      JSON.stringify({
        compilerOptions: {
          ...resolution,
          target: "ES2022",
          lib: ["ES2022", "DOM"],
          // Web-standard types only: the entry points must not need @types/node.
          types: [],
          strict: true,
          // As strict as a user may be: the declarations must hold under both.
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: false,
          noEmit: true,
        },
        files: ["consumer.ts"],
      }),
    );
    const tsc = join(project, "node_modules", "typescript", "bin", "tsc");
    const result = await run(process.execPath, [tsc, "-p", tsconfig], { cwd: project }).catch(
      (error: { stdout: string; stderr: string }) => error,
    );
    expect(result.stdout + result.stderr).toBe("");
  }, 60_000);

  it("calls a loopback Graph API server from plain ESM JavaScript", async () => {
    writeFileSync(
      join(project, "call.mjs"),
      `import { createCallingClient, DEFAULT_API_VERSION, WhatsAppApiError, WhatsAppError } from "whatsapp-calling";
import { parseWebhook, verifySignature, WebhookPayloadError } from "whatsapp-calling/webhooks";
import { signWebhookPayload } from "whatsapp-calling/testing";
import { toNodeListener } from "whatsapp-calling/node";

const calls = createCallingClient({
  phoneNumberId: "117823401562387",
  accessToken: "consumer-token",
  baseUrl: process.env.GRAPH_URL,
  retry: false,
});
const terminated = await calls.terminate("wacid.consumer");
let failure;
try {
  await calls.reject("wacid.unknown");
} catch (error) {
  failure = { isApiError: error instanceof WhatsAppApiError, status: error.status, code: error.code, category: error.category };
}
// The entry points are bundles of their own, each with a copy of the error classes that matches the others'.
let notJson;
try {
  parseWebhook("{");
} catch (error) {
  notJson = { payloadError: error instanceof WebhookPayloadError, whatsAppError: error instanceof WhatsAppError, name: error.name };
}
const body = JSON.stringify({ object: "whatsapp_business_account", entry: [] });
const header = await signWebhookPayload(body, "app-secret");
console.log(JSON.stringify({
  version: DEFAULT_API_VERSION,
  terminated,
  failure,
  notJson,
  signed: await verifySignature(body, header, "app-secret"),
  tampered: await verifySignature(body + " ", header, "app-secret"),
  events: parseWebhook(body),
  nodeAdapter: typeof toNodeListener,
}));
`,
    );
    const { stdout, stderr } = await run(process.execPath, ["call.mjs"], {
      cwd: project,
      env: { ...process.env, GRAPH_URL: graphUrl },
    });
    expect(stderr).toBe("");
    const result = JSON.parse(stdout) as Record<string, unknown>;
    const version = String(result.version);
    expect(version).toMatch(/^v\d+\.\d+$/);
    expect(result).toEqual({
      version,
      terminated: { messaging_product: "whatsapp", success: true },
      failure: { isApiError: true, status: 400, code: 100, category: "invalid_request" },
      notJson: { payloadError: true, whatsAppError: true, name: "WebhookPayloadError" },
      signed: true,
      tampered: false,
      events: [],
      nodeAdapter: "function",
    });
    expect(requests).toEqual([
      {
        method: "POST",
        url: `/${version}/117823401562387/calls`,
        authorization: "Bearer consumer-token",
        body: { messaging_product: "whatsapp", call_id: "wacid.consumer", action: "terminate" },
      },
      {
        method: "POST",
        url: `/${version}/117823401562387/calls`,
        authorization: "Bearer consumer-token",
        body: { messaging_product: "whatsapp", call_id: "wacid.unknown", action: "reject" },
      },
    ]);
  }, 30_000);

  it("names every error class it exports, and its errors, after its export, though dist/ is minified, and each is a WhatsAppError", async () => {
    writeFileSync(
      join(project, "errors.mjs"),
      `import { inspect } from "node:util";
import { WhatsAppError } from "whatsapp-calling";
const entries = ["whatsapp-calling", "whatsapp-calling/webhooks", "whatsapp-calling/media", "whatsapp-calling/testing", "whatsapp-calling/node", "whatsapp-calling/redis"];
// One object that each constructor reads what it needs from, given as each argument (a message gets its text).
const init = { status: 500, body: undefined, timeoutMs: 1, limitBytes: 1, expected: "a", actual: "b", size: 1, maxBytes: 1, announced: true, refreshed: false };
const seen = {};
for (const entry of entries) {
  for (const [name, value] of Object.entries(await import(entry))) {
    if (typeof value !== "function" || !/Error$/.test(name)) continue;
    const error = new value(init, init);
    seen[name] = {
      name: error.name,
      className: value.name,
      whatsAppError: error instanceof WhatsAppError,
      stack: error.stack.split("\\n")[0].split(":")[0],
      inspected: inspect(error).split("\\n")[0].split(":")[0],
    };
  }
}
console.log(JSON.stringify(seen));
`,
    );
    const { stdout, stderr } = await run(process.execPath, ["errors.mjs"], { cwd: project });
    expect(stderr).toBe("");
    const seen = JSON.parse(stdout) as Record<string, unknown>;
    const names = [
      "WhatsAppError",
      "WhatsAppApiError",
      "WhatsAppNetworkError",
      "WhatsAppResponseError",
      "WhatsAppResponseTooLargeError",
      "WhatsAppTimeoutError",
      "WhatsAppTokenError",
      "WhatsAppValidationError",
      "WebhookVerificationError",
      "WebhookPayloadError",
      "WebhookDedupeStoreError",
      "WebhookBodyParsedError",
      "WhatsAppChecksumError",
      "WhatsAppMediaExpiredError",
      "WhatsAppMediaTooLargeError",
      "SandboxClosedError",
      "SandboxMediaUnavailableError",
      "SandboxTimeoutError",
    ];
    expect(Object.keys(seen).sort()).toEqual([...names].sort());
    // What console.error prints first: the class's name, and not a minified one beside it (`m [WhatsAppError]`).
    for (const name of names) expect(seen[name], name).toEqual({ name, className: name, whatsAppError: true, stack: name, inspected: name });
  }, 30_000);

  it("entry points are bundles of their own, yet what one hands another works: a client to ./media, a body reader's verdict to the handler, errors (./redis's, the sandbox's, ./media's) to instanceof", async () => {
    writeFileSync(
      join(project, "cross.mjs"),
      `import { createServer } from "node:http";
import * as client from "whatsapp-calling";
import { deleteMedia, getMediaUrl } from "whatsapp-calling/media";
import { createWebhookHandler, WebhookDedupeStoreError } from "whatsapp-calling/webhooks";
import { toNodeListener } from "whatsapp-calling/node";
import { createRedisDedupeStore } from "whatsapp-calling/redis";
import { SandboxMediaUnavailableError, startSandbox } from "whatsapp-calling/testing";

// An error that ./redis throws is the class that ./webhooks exports, and a WhatsAppError of ".".
let storeDown;
try {
  await createRedisDedupeStore({ sendCommand: async () => { throw new Error("Redis is down"); } }).claim("key", 1000);
} catch (error) {
  storeDown = { storeError: error instanceof WebhookDedupeStoreError, whatsAppError: error instanceof client.WhatsAppError, operation: error.operation };
}

// The sandbox, a bundle that ./testing loads on demand, throws the class that ./testing exports (werift, which
// media: true needs, is not installed here).
let noWerift;
try {
  await startSandbox({ webhookUrl: "http://127.0.0.1:9/webhook", appSecret: "app-secret", media: true });
} catch (error) {
  noWerift = { unavailable: error instanceof SandboxMediaUnavailableError, whatsAppError: error instanceof client.WhatsAppError, name: error.name };
}

// ./media's requests go through the client of "whatsapp-calling": its base URL and token.
const calls = client.createCallingClient({ phoneNumberId: "117823401562387", accessToken: "media-token", baseUrl: process.env.GRAPH_URL, retry: false });
const deleted = await deleteMedia(calls, "1234567890");
let noUrl;
try {
  await getMediaUrl(calls, "1234567890");
} catch (error) {
  noUrl = { responseError: error instanceof client.WhatsAppResponseError, whatsAppError: error instanceof client.WhatsAppError, name: error.name };
}

// ./node's body reader says "too large" to the handler of ./webhooks.
const server = createServer(toNodeListener(createWebhookHandler({ appSecret: "app-secret", verifyToken: "verify-token", maxBodyBytes: 16 })));
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const answer = await fetch("http://127.0.0.1:" + server.address().port + "/", { method: "POST", body: "x".repeat(64), headers: { "x-hub-signature-256": "sha256=00" } });
server.closeAllConnections();
server.close();
console.log(JSON.stringify({ storeDown, noWerift, deleted, noUrl, tooLarge: answer.status }));
`,
    );
    const before = requests.length;
    const { stdout, stderr } = await run(process.execPath, ["cross.mjs"], { cwd: project, env: { ...process.env, GRAPH_URL: graphUrl } });
    expect(stderr).toBe("");
    expect(JSON.parse(stdout)).toEqual({
      storeDown: { storeError: true, whatsAppError: true, operation: "claim" },
      noWerift: { unavailable: true, whatsAppError: true, name: "SandboxMediaUnavailableError" },
      deleted: { messaging_product: "whatsapp", success: true },
      noUrl: { responseError: true, whatsAppError: true, name: "WhatsAppResponseError" },
      tooLarge: 413,
    });
    const version = requests[before]!.url.split("/")[1];
    expect(requests.slice(before)).toEqual([
      { method: "DELETE", url: `/${version}/1234567890`, authorization: "Bearer media-token", body: undefined },
      { method: "GET", url: `/${version}/1234567890`, authorization: "Bearer media-token", body: undefined },
    ]);
  }, 30_000);

  it("an uncaught error from the package prints its message after one short line of the bundle, not the whole minified file", () => {
    writeFileSync(join(project, "crash.mjs"), `import { createCallingClient } from "whatsapp-calling";\ncreateCallingClient({ phoneNumberId: "x", accessToken: "t" });\n`);
    const result = spawnSync(process.execPath, ["crash.mjs"], { cwd: project, encoding: "utf8" });
    expect(result.status).toBe(1);
    const lines = result.stderr.split("\n");
    // Node prints the file and line of the throw, that line (with a caret line under it), then the error.
    expect(lines[0]).toMatch(/^file:\/\/.*\/node_modules\/whatsapp-calling\/dist\/.*\.js:\d+$/);
    expect(lines.slice(0, 6).some((line) => line.startsWith("WhatsAppValidationError: phoneNumberId must be"))).toBe(true);
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThanOrEqual(400);
  });

  it("can be require()d from CommonJS on Node >= 20.19 (require(esm), no flag)", async () => {
    writeFileSync(
      join(project, "require.cjs"),
      `const main = require("whatsapp-calling");
const webhooks = require("whatsapp-calling/webhooks");
const testing = require("whatsapp-calling/testing");
console.log(JSON.stringify({
  version: main.DEFAULT_API_VERSION,
  createCallingClient: typeof main.createCallingClient,
  parseWebhook: typeof webhooks.parseWebhook,
  signWebhookPayload: typeof testing.signWebhookPayload,
}));
`,
    );
    const result = await run(process.execPath, ["require.cjs"], { cwd: project }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    if (process.features.require_module) {
      // Node 20.19+ and 22.12+ load ES modules through require(); 20.20 prints no warning for it.
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).not.toMatch(/Error/);
      expect(JSON.parse(result.stdout)).toEqual({
        version: expect.stringMatching(/^v\d+\.\d+$/),
        createCallingClient: "function",
        parseWebhook: "function",
        signWebhookPayload: "function",
      });
    } else {
      // Older Node: the package is ESM only, and Node says so plainly.
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("ERR_REQUIRE_ESM");
    }
  }, 30_000);
});
