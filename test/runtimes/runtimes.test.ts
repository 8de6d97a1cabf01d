// The same checks on every runtime the README names: Node 20 (this one), Node 22 and 24, Bun, Deno and workerd,
// each running test/runtimes/smoke.js against the packed package installed in a separate project, with its
// client talking to a loopback recorder run here. Each runtime × check is one test; a runtime that does not
// start fails every one of its checks with the reason, never skips.
import { execFile, spawn } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/lib/spec.js";
import { CALL_ACTIONS, DEFAULT_API_VERSION } from "../../src/index.js";
import { expectedFixtureEvents } from "../webhooks/expected-events.js";
import { deliveryFixtures, fixturesDir } from "../webhooks/helpers.js";
import { pinned, runtimes, temporaryDir, writeRunner, writeSmokeFiles, writeWorker, type Command, type Runtime } from "./runtimes.js";

const execFileAsync = promisify(execFile);
const PHONE_NUMBER_ID = "117823401562387";
const TOKEN = "EAAG-runtime-smoke-token";
const REPORT_MARKER = "SMOKE-REPORT ";

const fixtureText = (file: string) => readFileSync(join(fixturesDir, file), "utf8");
const fixtureFiles = [
  ...deliveryFixtures,
  "webhooks/signature.cases.json",
  "webhooks/verification.get.json",
  ...CALL_ACTIONS.map((action) => `api/calls.${action}.request.json`),
];
const fixtureJson = (file: string) => JSON.parse(fixtureText(file));
const connectResponse = fixtureJson("api/calls.connect.response.json");
const actionResponse = fixtureJson("api/calls.action.response.json");

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A loopback Graph API for one runtime: records each request and answers as Meta does. */
async function startRecorder(): Promise<{ server: Server; url: string; requests: Recorded[] }> {
  const requests: Recorded[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({ method: request.method ?? "", url: request.url ?? "", headers: request.headers, body });
      const action = (() => {
        try {
          return (JSON.parse(body) as { action?: string }).action;
        } catch {
          return undefined;
        }
      })();
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify(action === "connect" ? connectResponse : actionResponse));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

type Report = Record<string, { value?: unknown; error?: string }>;
interface Outcome {
  runtime?: string;
  report?: Report;
  /** Why the runtime gave no report: did not start, crashed, printed no report. */
  failure?: string;
  requests: Recorded[];
}

// The package as users get it: built into a staging copy (so this file never races the consumer test,
// which rebuilds the repository's dist/), packed with npm pack, installed into a fresh project.
let project: string;
const staging = temporaryDir("whatsapp-calling-runtimes-pack-");
const outcomes = new Map<Runtime, Outcome>();
const recorders: Server[] = [];

function sh(file: string, args: string[], cwd: string) {
  return execFileAsync(file, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
}

async function runOne(runtime: Runtime, index: number): Promise<Outcome> {
  const recorder = await startRecorder();
  recorders.push(recorder.server);
  let command: Command;
  if (runtime.nodeHttp) {
    writeRunner(project, `run-${index}.js`, runtime, recorder.url);
    command = runtime.command(`run-${index}.js`);
  } else {
    // workerd: the worker answers the smoke report to one request.
    writeWorker(project, `worker-${index}.js`, recorder.url);
    writeFileSync(join(project, `bindings-${index}.json`), "{}");
    writeFileSync(join(project, `requests-${index}.json`), JSON.stringify([{ url: "http://worker.test/smoke", method: "GET" }]));
    command = runtime.command(`worker-${index}.js`, `bindings-${index}.json`, `requests-${index}.json`);
  }
  const printed = await runMarked(command);
  if ("failure" in printed) return { failure: printed.failure, requests: recorder.requests };
  const { runtime: self, report, responses } = printed.line as { runtime: string; report?: Report; responses?: { body: string }[] };
  return { runtime: self, report: report ?? (JSON.parse(responses![0]!.body) as Report), requests: recorder.requests };
}

/** Runs a command in the project and returns its marked line, parsed, or why there was none. */
async function runMarked({ file, args, env }: Command): Promise<{ line: Record<string, unknown>; stdout: string } | { failure: string }> {
  try {
    const { stdout } = await execFileAsync(file, args, {
      cwd: project,
      encoding: "utf8",
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, ...env },
    });
    const line = stdout.split("\n").find((text) => text.startsWith(REPORT_MARKER));
    if (!line) return { failure: `printed no report; stdout:\n${stdout.slice(-2000)}` };
    return { line: JSON.parse(line.slice(REPORT_MARKER.length)) as Record<string, unknown>, stdout };
  } catch (error) {
    const { code, signal, stderr, message } = error as { code?: unknown; signal?: unknown; stderr?: string; message: string };
    const reason = code === "ENOENT" ? `${file} is not installed (run bash scripts/setup.sh)` : `exit ${String(code)}${signal ? ` (${String(signal)})` : ""}`;
    return { failure: `${reason}\n${(stderr || message).slice(-3000)}` };
  }
}

// The examples, served by their runtime from the consumer project (so they import the packed package), with the
// fixtures' app secret and verify token: the handshake, a delivery signed as Meta signed it, and a forged one.
const signatureFixture = fixtureJson("webhooks/signature.cases.json") as { app_secret: string; cases: { body_file: string; body_transform?: string; x_hub_signature_256: string; expected_valid: boolean }[] };
const connectCase = signatureFixture.cases.find((entry) => entry.expected_valid && entry.body_file === "webhooks/calls.connect.user-initiated.json")!;
const exampleEnv = {
  WHATSAPP_APP_SECRET: signatureFixture.app_secret,
  WHATSAPP_VERIFY_TOKEN: fixtureJson("webhooks/verification.get.json").configured_verify_token as string,
};
const exampleRequests = [
  { path: `/webhooks/whatsapp?${new URLSearchParams(fixtureJson("webhooks/verification.get.json").request.query)}`, method: "GET" },
  ...[fixtureText(connectCase.body_file), `${fixtureText(connectCase.body_file)} `].map((body) => ({
    path: "/webhooks/whatsapp",
    method: "POST",
    headers: { "content-type": "application/json", "x-hub-signature-256": connectCase.x_hub_signature_256 },
    body,
  })),
];
interface Answer {
  status: number;
  contentType: string | null;
  body: string;
}
type ExampleOutcome = { responses: Answer[]; output: string } | { failure: string };
const exampleOutcomes = new Map<Runtime, ExampleOutcome>();

async function runExample(runtime: Runtime, index: number): Promise<ExampleOutcome> {
  const { source, serve } = runtime.example!;
  const file = `example-${index}${source.slice(source.lastIndexOf("."))}`;
  copyFileSync(join(repoRoot, source), join(project, file));
  if (!serve) {
    // workerd: the worker itself, its secrets as bindings, the requests dispatched through miniflare.
    writeFileSync(join(project, `example-bindings-${index}.json`), JSON.stringify(exampleEnv));
    writeFileSync(join(project, `example-requests-${index}.json`), JSON.stringify(exampleRequests.map(({ path, ...rest }) => ({ url: `http://worker.test${path}`, ...rest }))));
    const printed = await runMarked(runtime.command(file, `example-bindings-${index}.json`, `example-requests-${index}.json`));
    if ("failure" in printed) return printed;
    return { responses: printed.line.responses as Answer[], output: printed.stdout };
  }
  const { file: bin, args, env } = serve(file);
  const child = spawn(bin, args, { cwd: project, env: { ...process.env, ...env, ...exampleEnv }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error(`printed no URL within 60 s:\n${output}`)), 60_000);
      const read = (chunk: Buffer) => {
        output += chunk.toString("utf8");
        const port = /http:\/\/(?:127\.0\.0\.1|localhost):(\d+)/.exec(output)?.[1];
        if (port) {
          clearTimeout(guard);
          resolve(`http://127.0.0.1:${port}`);
        }
      };
      child.stdout.on("data", read);
      child.stderr.on("data", read);
      child.on("error", (error) => reject(new Error(`${bin} could not start (${(error as NodeJS.ErrnoException).code}: run bash scripts/setup.sh)`)));
      child.on("exit", (code) => reject(new Error(`exited with ${code} before listening:\n${output}`)));
    });
    const responses: Answer[] = [];
    for (const { path, ...init } of exampleRequests) {
      const response = await fetch(url + path, init);
      responses.push({ status: response.status, contentType: response.headers.get("content-type"), body: await response.text() });
    }
    return { responses, output };
  } catch (error) {
    return { failure: (error as Error).message };
  } finally {
    child.kill();
    await exited;
  }
}

/** Why the package could not be packed and installed, if it could not: every check fails with it. */
let setupFailure: string | undefined;

beforeAll(async () => {
  try {
    await packAndInstall();
  } catch (error) {
    setupFailure = error instanceof Error ? error.message : String(error);
    return;
  }
  // One runtime after the other: they are quick, and the machine's cores are shared with the other test files.
  for (const [index, runtime] of runtimes.entries()) {
    outcomes.set(runtime, await runOne(runtime, index).catch((error: Error) => ({ failure: error.message, requests: [] })));
    if (runtime.example) exampleOutcomes.set(runtime, await runExample(runtime, index).catch((error: Error) => ({ failure: error.message })));
  }
}, 600_000);

async function packAndInstall() {
  for (const file of ["package.json", "README.md", "LICENSE", "openapi.yaml"]) cpSync(join(repoRoot, file), join(staging, file));
  await sh(process.execPath, [join(repoRoot, "node_modules/tsx/dist/cli.mjs"), "scripts/build.ts", "--out-dir", join(staging, "dist")], repoRoot);
  project = temporaryDir("whatsapp-calling-runtimes-");
  const { stdout } = await sh("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", project], staging);
  const { filename } = (JSON.parse(stdout) as [{ filename: string }])[0];
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "runtime-consumer", private: true, type: "module" }));
  await sh("npm", ["install", `./${filename}`, "--prefer-offline", "--no-audit", "--no-fund", "--no-package-lock"], project);
  writeSmokeFiles(project, Object.fromEntries(fixtureFiles.map((file) => [file, fixtureText(file)])), deliveryFixtures);
}

const results = new Map<string, Map<string, boolean>>();

afterAll(async () => {
  for (const server of recorders) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  if (project) rmSync(project, { recursive: true, force: true });
  rmSync(staging, { recursive: true, force: true });
  writeTable();
});

/** The runtime × check table, for the CI log (scripts/test-ci.ts prints it) and for a local run. */
function writeTable() {
  const names = runtimes.map((runtime) => runtime.name);
  const cell = (runtime: Runtime, check: Check) => {
    if (!(check.appliesTo?.(runtime) ?? true)) return "n/a";
    const result = results.get(runtime.name)?.get(check.name);
    return result === undefined ? "-" : result ? "ok" : "FAIL";
  };
  const rows = checks.map((check) => [check.name, ...runtimes.map((runtime) => cell(runtime, check))]);
  const header = ["check", ...names];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(" | ")} |`;
  const table = [line(header), `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`, ...rows.map(line)].join("\n");
  const passed = [...results.values()].reduce((sum, row) => sum + [...row.values()].filter(Boolean).length, 0);
  const total = runtimes.reduce((sum, runtime) => sum + checks.filter((check) => check.appliesTo?.(runtime) ?? true).length, 0);
  const text = `Runtimes × checks (${passed} of ${total} passed):\n${table}\n`;
  mkdirSync(join(repoRoot, "test-results"), { recursive: true });
  writeFileSync(join(repoRoot, "test-results", "runtimes.txt"), text);
  if (!process.env.RUNTIMES_TABLE_PRINTED_BY_CI) console.log(text);
}

// Headers the runtimes' fetch adds on its own (seen from Node's undici, Bun, Deno and workerd), not the package's:
// left out of the exact comparison; content-length is checked against the body, accept must be fetch's default.
const TRANSPORT_HEADERS = new Set(["host", "connection", "user-agent", "accept", "accept-encoding", "accept-language", "sec-fetch-mode", "content-length", "cf-worker"]);

interface Check {
  name: string;
  /** Asserts what the runtime observed (the check's value in the report). */
  assert(value: unknown, outcome: Outcome, runtime: Runtime): void | Promise<void>;
  /** What it asserts, when not the check's value in the smoke report. */
  observe?(outcome: Outcome): unknown;
  /** Whether the check belongs to a runtime (default: every runtime). */
  appliesTo?(runtime: Runtime): boolean;
}

const entryPointSources = Object.entries(JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).exports as Record<string, unknown>)
  .filter(([, target]) => typeof target === "object")
  .map(([subpath]) => (subpath === "." ? "whatsapp-calling" : `whatsapp-calling/${subpath.slice(2)}`));
const sourceOf: Record<string, () => Promise<Record<string, unknown>>> = {
  "whatsapp-calling": () => import("../../src/index.js"),
  "whatsapp-calling/webhooks": () => import("../../src/webhooks/index.js"),
  "whatsapp-calling/media": () => import("../../src/media/index.js"),
  "whatsapp-calling/testing": () => import("../../src/testing/index.js"),
  "whatsapp-calling/node": () => import("../../src/node.js"),
  "whatsapp-calling/redis": () => import("../../src/redis/index.js"),
};

const verification = fixtureJson("webhooks/verification.get.json");
const USER_CALL_ID = fixtureJson("webhooks/calls.connect.user-initiated.json").entry[0].changes[0].value.calls[0].id as string;

const checks: Check[] = [
  {
    name: "starts",
    observe: (outcome) => outcome.runtime,
    assert: (value, _outcome, runtime) => expect(value).toBe(runtime.expected()),
  },
  {
    name: "imports every entry point",
    assert: async (value, _outcome, runtime) => {
      const expected: Record<string, string[]> = {};
      for (const entry of entryPointSources) {
        if (entry === "whatsapp-calling/node" && !runtime.nodeHttp) continue;
        const load = sourceOf[entry];
        if (!load) throw new Error(`no source known for the entry point ${entry}: add it to sourceOf`);
        expected[entry] = Object.keys(await load()).sort();
      }
      expect(value).toEqual(expected);
    },
  },
  {
    name: "verifySignature: signed verifies, wrong does not",
    assert: (value) => {
      const { header, ...rest } = value as { header: string };
      expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(rest).toEqual({
        cases: signatureFixture.cases.map((entry) => entry.expected_valid),
        signed: true,
        rotated: true,
        wrongSecret: false,
        tampered: false,
        missing: false,
      });
    },
  },
  ...deliveryFixtures.map(
    (file): Check => ({
      name: `parseWebhook: ${file.replace(/^webhooks\//, "")}`,
      assert: (value) => expect(value).toEqual(expectedFixtureEvents[file]),
    }),
  ),
  {
    name: "handler: handshake",
    assert: (value) =>
      expect(value).toEqual({
        right: { status: 200, contentType: expect.stringMatching(/^text\/plain/), body: verification.expected_response.body },
        wrongToken: verification.mismatch_case.expected_status,
      }),
  },
  {
    name: "handler: signed delivery",
    assert: (value) => expect(value).toEqual({ status: 200, dispatched: [`call.connect ${USER_CALL_ID}`] }),
  },
  {
    name: "handler: forged delivery",
    assert: (value) => expect(value).toEqual({ tampered: 401, otherSecret: 401, unsigned: 401, dispatched: [] }),
  },
  {
    name: "handler: oversized delivery",
    assert: (value) => expect(value).toEqual({ bodyBytes: Buffer.byteLength(fixtureText("webhooks/calls.connect.user-initiated.json")), status: 413, dispatched: [] }),
  },
  ...CALL_ACTIONS.map(
    (action): Check => ({
      name: `client: ${action}`,
      assert: (value, outcome) => {
        // The request of this action reached the recorder once, exactly as documented.
        const sent = outcome.requests.filter((request) => request.body.includes(`"action":"${action}"`));
        expect(sent).toHaveLength(1);
        const [request] = sent as [Recorded];
        expect(request.method).toBe("POST");
        expect(request.url).toBe(`/${DEFAULT_API_VERSION}/${PHONE_NUMBER_ID}/calls`);
        expect(JSON.parse(request.body)).toEqual(fixtureJson(`api/calls.${action}.request.json`));
        expect(Number(request.headers["content-length"])).toBe(Buffer.byteLength(request.body));
        expect(request.headers.accept ?? "*/*").toBe("*/*");
        const own = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !TRANSPORT_HEADERS.has(name)));
        expect(own).toEqual({ authorization: `Bearer ${TOKEN}`, "content-type": "application/json" });
        // And the client resolved with Meta's answer.
        expect(value).toEqual(action === "connect" ? { callId: connectResponse.calls[0].id, data: connectResponse } : actionResponse);
      },
    }),
  ),
  {
    name: "example endpoint (examples/): handshake, signed, forged",
    appliesTo: (runtime) => runtime.example !== undefined,
    observe: () => undefined,
    assert: (_value, _outcome, runtime) => {
      const outcome = exampleOutcomes.get(runtime);
      if (!outcome) throw new Error(`${runtime.example!.source} was not run`);
      if ("failure" in outcome) throw new Error(`${runtime.example!.source}: ${outcome.failure}`);
      const plain = "text/plain; charset=utf-8";
      expect(outcome.responses).toEqual([
        { status: 200, contentType: plain, body: verification.expected_response.body },
        { status: 200, contentType: null, body: "" },
        { status: 401, contentType: plain, body: "Invalid X-Hub-Signature-256 signature" },
      ]);
      // The example's own call.connect handler ran, once (a server's log; miniflare shows a worker's too).
      expect(outcome.output.split(`call ${USER_CALL_ID} USER_INITIATED`).length - 1).toBe(1);
    },
  },
];

it("the README names every runtime version tested", () => {
  const section = readFileSync(join(repoRoot, "README.md"), "utf8").split("\n### Runtimes tested\n")[1]?.split("\n#")[0] ?? "";
  const versions = runtimes.flatMap((runtime) => runtime.expected().match(/\d+\.\d+\.\d+/g) ?? []);
  versions.push(pinned("workerd", "miniflare"));
  expect(versions.filter((version) => !section.includes(version))).toEqual([]);
  expect(versions.length).toBe(runtimes.length + 1);
});

describe.each(runtimes)("$name", (runtime) => {
  it.each(checks.filter((check) => check.appliesTo?.(runtime) ?? true))("$name", async (check) => {
    const row = results.get(runtime.name) ?? new Map<string, boolean>();
    results.set(runtime.name, row);
    row.set(check.name, false);
    if (setupFailure) throw new Error(`the packed package could not be installed: ${setupFailure}`);
    const outcome = outcomes.get(runtime);
    if (!outcome) throw new Error(`${runtime.name} was not run`);
    if (outcome.failure) throw new Error(`${runtime.name} did not run the smoke module: ${outcome.failure}`);
    let value: unknown;
    if (check.observe) value = check.observe(outcome);
    else {
      const entry = outcome.report![check.name];
      if (!entry) throw new Error(`${runtime.name} reported no result for "${check.name}"`);
      if (entry.error !== undefined) throw new Error(`${runtime.name}: ${check.name} threw ${entry.error}`);
      value = entry.value;
    }
    await check.assert(value, outcome, runtime);
    row.set(check.name, true);
  });
});
