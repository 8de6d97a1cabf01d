// npm run bench: each measurement is a pair, the package's code and a baseline doing the unavoidable part of the
// same work on the same bytes, measured in the same run. Only the ratio means something across machines; the
// ops/s are this machine's. Not part of the test run: speed is never asserted with absolute thresholds.
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Bench } from "tinybench";
import { createCallingClient, DEFAULT_API_VERSION } from "../src/index.js";
import { signWebhookPayload } from "../src/testing/index.js";
import { createWebhookHandler, parseWebhook, SIGNATURE_HEADER, verifySignature } from "../src/webhooks/index.js";
import { batchedDelivery, WEBHOOK_FIXTURES, webhookFixture } from "./fixtures.js";

interface Pair {
  name: string;
  subject: () => unknown;
  baselineName: string;
  baseline: () => unknown;
}

interface Row {
  name: string;
  baseline: string;
  opsPerSecond: number;
  baselineOpsPerSecond: number;
  /** How many times longer one operation takes than the baseline's: 1.0 is no overhead. */
  ratio: number;
  samples: number;
}

const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 400);
const WARMUP_MS = 100;
const APP_SECRET = "bench-app-secret";
const PREVIOUS_APP_SECRET = "bench-previous-app-secret";
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Runs subject and baseline twice, in the order subject-baseline and then baseline-subject, so that neither
 * always runs first (warm-up, collector debt of the other task), and compares their mean times per operation.
 */
async function measure(pair: Pair): Promise<Row> {
  const periods = { subject: [] as number[], baseline: [] as number[] };
  let samples = 0;
  for (const order of [["subject", "baseline"], ["baseline", "subject"]] as const) {
    const bench = new Bench({ time: TIME_MS / 2, warmupTime: WARMUP_MS, iterations: 5 });
    for (const taskName of order) bench.add(taskName, pair[taskName]);
    await bench.run();
    for (const taskName of order) {
      const taskResult = bench.getTask(taskName)?.result;
      if (!taskResult || !("period" in taskResult)) {
        const error = taskResult && "error" in taskResult ? taskResult.error : undefined;
        throw new Error(`${pair.name}: ${taskName} did not complete${error ? `: ${String(error)}` : ""}`);
      }
      periods[taskName].push(taskResult.period);
      if (taskName === "subject") samples += taskResult.latency.samplesCount;
    }
  }
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const subject = mean(periods.subject);
  const baseline = mean(periods.baseline);
  return {
    name: pair.name,
    baseline: pair.baselineName,
    opsPerSecond: 1000 / subject,
    baselineOpsPerSecond: 1000 / baseline,
    ratio: subject / baseline,
    samples,
  };
}

function printTable(rows: Row[]) {
  const header = ["benchmark", "ops/s", "baseline", "baseline ops/s", "ratio"];
  const cells = rows.map((row) => [
    row.name,
    formatOps(row.opsPerSecond),
    row.baseline,
    formatOps(row.baselineOpsPerSecond),
    `${row.ratio.toFixed(2)}×`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((line) => line[column]!.length)));
  const numeric = new Set([1, 3, 4]);
  const format = (line: string[]) =>
    line.map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join("  ");
  console.log(format(header));
  console.log(widths.map((width) => "-".repeat(width)).join("  "));
  for (const line of cells) console.log(format(line));
}

function formatOps(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toFixed(1);
}

async function main() {
  const started = Date.now();
  const pairs: Pair[] = [];

  // 1. parseWebhook vs JSON.parse of the same bytes: the cost of schema validation and building the events.
  const batch = batchedDelivery(1_000);
  const parseInputs: [string, Uint8Array<ArrayBuffer>][] = [
    ...WEBHOOK_FIXTURES.map((name): [string, Uint8Array<ArrayBuffer>] => [basename(name, ".json"), webhookFixture(name)]),
    [`batch of 1,000 updates (${Math.round(batch.byteLength / 1024)} KiB)`, batch],
  ];
  for (const [label, bytes] of parseInputs) {
    pairs.push({
      name: `parseWebhook: ${label}`,
      subject: () => parseWebhook(bytes),
      baselineName: "JSON.parse(decode(bytes))",
      baseline: () => JSON.parse(decoder.decode(bytes)),
    });
  }

  // 2. verifySignature vs a bare WebCrypto HMAC-SHA256 of the same bytes (key import included in both).
  const hmac = async (bytes: Uint8Array<ArrayBuffer>, secret: string) => {
    const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return crypto.subtle.sign("HMAC", key, bytes);
  };
  const connect = webhookFixture("webhooks/calls.connect.user-initiated.json");
  for (const [label, bytes] of [
    ["connect delivery", connect],
    ["batch of 1,000 updates", batch],
  ] as const) {
    const header = await signWebhookPayload(bytes, APP_SECRET);
    pairs.push({
      name: `verifySignature: ${label}`,
      subject: async () => {
        if (!(await verifySignature(bytes, header, APP_SECRET))) throw new Error("signature did not verify");
      },
      baselineName: "crypto.subtle HMAC sign",
      baseline: () => hmac(bytes, APP_SECRET),
    });
  }
  const rotatedHeader = await signWebhookPayload(connect, APP_SECRET);
  pairs.push({
    name: "verifySignature: connect, 2 secrets (rotation)",
    subject: async () => {
      if (!(await verifySignature(connect, rotatedHeader, [PREVIOUS_APP_SECRET, APP_SECRET]))) throw new Error("signature did not verify");
    },
    baselineName: "crypto.subtle HMAC sign",
    baseline: () => hmac(connect, APP_SECRET),
  });

  // 3. createWebhookHandler POST vs reading the same request, verifying it and JSON.parse alone.
  const handler = createWebhookHandler({ appSecret: APP_SECRET, verifyToken: "bench-verify-token", dedupe: false, on: { "call.connect": () => {} } });
  for (const [label, bytes] of [
    ["connect delivery", connect],
    ["batch of 1,000 updates", batch],
  ] as const) {
    const header = await signWebhookPayload(bytes, APP_SECRET);
    const request = () =>
      new Request("http://127.0.0.1/webhooks/whatsapp", {
        method: "POST",
        headers: { "content-type": "application/json", [SIGNATURE_HEADER]: header },
        body: bytes,
      });
    pairs.push({
      name: `webhook handler POST: ${label}`,
      subject: async () => {
        const response = await handler(request());
        if (response.status !== 200) throw new Error(`handler answered ${response.status}`);
        await response.arrayBuffer();
      },
      baselineName: "read + verifySignature + JSON.parse",
      baseline: async () => {
        const incoming = request();
        const body = new Uint8Array(await incoming.arrayBuffer());
        if (!(await verifySignature(body, incoming.headers.get(SIGNATURE_HEADER), APP_SECRET))) throw new Error("signature did not verify");
        JSON.parse(decoder.decode(body));
      },
    });
  }

  // 4. terminate() against a loopback server vs a bare fetch POST of the same body to the same URL.
  const answer = JSON.stringify({ messaging_product: "whatsapp", success: true });
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(answer));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const phoneNumberId = "117823401562387";
  const callId = "wacid.HBgLMTU1NTAxMjM0NTYVAgASGCA1RUU0QkUzQTc4QUZDQzVGN0M4Q0I5NzAzQ0Q3NTVEOBwYCzE1NTUwMTk5MDAxFQIAAA==";
  const calls = createCallingClient({ phoneNumberId, accessToken: "bench-token", baseUrl });
  const terminateBody = JSON.stringify({ messaging_product: "whatsapp", call_id: callId, action: "terminate" });
  const callsUrl = `${baseUrl}/${DEFAULT_API_VERSION}/${phoneNumberId}/calls`;
  pairs.push({
    name: "client.terminate() over loopback HTTP",
    subject: () => calls.terminate(callId),
    baselineName: "fetch POST of the same body + JSON.parse",
    baseline: async () => {
      const response = await fetch(callsUrl, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer bench-token" },
        body: terminateBody,
      });
      JSON.parse(await response.text());
    },
  });

  const rows: Row[] = [];
  try {
    for (const pair of pairs) rows.push(await measure(pair));
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  console.log(`whatsapp-calling benchmarks (Node ${process.version}, tinybench, ${TIME_MS} ms per task; ratio = time per operation / baseline's)\n`);
  printTable(rows);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`\n${rows.length} pairs in ${seconds} s`);

  const outputDir = join(dirname(fileURLToPath(import.meta.url)), "..", "test-results");
  mkdirSync(outputDir, { recursive: true });
  writeFileSync(join(outputDir, "bench.json"), `${JSON.stringify({ node: process.version, timeMs: TIME_MS, rows }, null, 2)}\n`);
}

await main();
