// CPU profiles of the measured loops, whatsapp-calling's side only, on the packed package (built and installed
// by `npm run bench`, or by this script with --install):
//
//   npx tsx bench/profile.ts <loop> [--install]   loops: terminate, stub, verify-connect, verify-batch,
//                                                  handler-connect, handler-batch, node-server, dedupe
//
// It profiles the loop alone (after the modules are loaded and the inputs made: the V8 CPU profiler that
// `node --cpu-prof` uses, started and stopped through node:inspector around the loop; for node-server, in the
// bench/server.ts process), writes the .cpuprofile to test-results/profiles/ (open it in Chrome DevTools) and
// prints the share of each part (the package, openapi-fetch included since dist/ bundles it; undici, web streams,
// AbortSignal and events, timers, other node internals, GC, V8/native) and the top frames by self time.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { basename, join } from "node:path";
import { stubFetch, terminators } from "./client.js";
import { batchPool, connectPool, SIGNATURE_HEADER } from "./fixtures.js";
import { importFromPackage, installPackedPackage, outputDir } from "./package.js";
import { startServer } from "./remote.js";
import { eventHandled, handlers, toRequest, verifiers, type StoreOfAnyVersion } from "./webhooks.js";

const LOOPS = ["terminate", "stub", "verify-connect", "verify-batch", "handler-connect", "handler-batch", "node-server", "dedupe"];
const profilesDir = join(outputDir, "profiles");

/** The V8 CPU profiler of this process, as `node --cpu-prof` runs it, around `body` only. */
export async function profiled(file: string, body: () => Promise<void>): Promise<void> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 1000 });
  await session.post("Profiler.start");
  try {
    await body();
  } finally {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}

/** Profiles `loop`; returns the .cpuprofile written. */
async function runLoop(loop: string): Promise<string> {
  const file = join(profilesDir, `${loop}.cpuprofile`);
  const webhooks = await importFromPackage("whatsapp-calling/webhooks");
  const repeat = (count: number, operation: (index: number) => unknown) =>
    profiled(file, async () => {
      for (let index = 0; index < count; index += 1) await operation(index);
    });
  switch (loop) {
    case "terminate":
    case "stub": {
      const server = loop === "terminate" ? await startServer() : undefined;
      const send = (await terminators(server ? `http://127.0.0.1:${server.ports.graph}` : "http://127.0.0.1:9", server ? fetch : stubFetch))["whatsapp-calling"]!;
      await send();
      await repeat(loop === "terminate" ? 6_000 : 10_000, send);
      server?.close();
      return file;
    }
    case "verify-connect":
    case "verify-batch": {
      const pool = loop === "verify-connect" ? connectPool(2_000) : batchPool(30);
      const verify = (await verifiers(webhooks))["whatsapp-calling"]!;
      await repeat(loop === "verify-connect" ? 20_000 : 300, (index) => verify(pool[index % pool.length]!));
      return file;
    }
    case "handler-connect":
    case "handler-batch": {
      const pool = loop === "handler-connect" ? connectPool(2_000) : batchPool(30);
      const make = (await handlers(webhooks))["whatsapp-calling"]!;
      const rounds = Array.from({ length: 10 }, () => ({ handle: make(), requests: pool.map(toRequest) }));
      await repeat(rounds.length * pool.length, (index) => {
        const { handle, requests } = rounds[Math.floor(index / pool.length)]!;
        return handle(requests[index % pool.length]!);
      });
      return file;
    }
    case "node-server": {
      const server = await startServer([], file);
      const pool = connectPool(2_000);
      const url = `http://127.0.0.1:${server.ports["whatsapp-calling"]}/webhooks/whatsapp`;
      await server.ask("profile-start");
      for (let round = 0; round < 3; round += 1) {
        await server.ask("reset");
        for (const { bytes, signature } of pool) {
          const response = await fetch(url, { method: "POST", headers: { [SIGNATURE_HEADER]: signature }, body: bytes });
          await response.arrayBuffer();
        }
      }
      await server.ask("profile-stop");
      server.close();
      return file;
    }
    case "dedupe": {
      const handled = eventHandled(webhooks.createMemoryDedupeStore() as StoreOfAnyVersion);
      for (let index = 0; index < webhooks.DEFAULT_DEDUPE_MAX_KEYS; index += 1) handled(`wacid.fill-${index}:connect`);
      const keys = Array.from({ length: 500_000 }, (_, index) => `wacid.${index}:connect`);
      await profiled(file, async () => {
        for (const key of keys) handled(key);
      });
      return file;
    }
    default:
      throw new Error(`unknown loop ${loop}; one of ${LOOPS.join(", ")}`);
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

function part(url: string, functionName: string): string {
  if (functionName === "(garbage collector)") return "GC";
  if (functionName === "(idle)" || functionName === "(program)") return functionName;
  if (url.includes("/whatsapp-calling/")) return "whatsapp-calling";
  if (url.includes("undici")) return "undici";
  if (url.includes("webstreams")) return "web streams";
  if (/abort_controller|js_transferable|event_target|node:events/.test(url)) return "AbortSignal, events";
  if (url.includes("node:internal/timers")) return "timers";
  if (url.startsWith("node:")) return "other node internals";
  if (url === "") return "V8 / native";
  if (url.includes("/bench/")) return "bench harness";
  return "other";
}

export function summarizeProfile(file: string, top = 15): string {
  const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[] };
  const total = profile.samples.length;
  const byFrame = new Map<string, number>();
  const byPart = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (!hits) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const group = part(url, functionName);
    byPart.set(group, (byPart.get(group) ?? 0) + hits);
    if (group === "(idle)") continue;
    busy += hits;
    const where = url ? `${url.replace(/^.*\/node_modules\//, "").replace(/^file:\/\/.*\/bench\//, "bench/")}:${lineNumber + 1}` : "";
    const frame = `${functionName || "(anonymous)"} ${where}`.trim();
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + hits);
  }
  const percent = (hits: number) => `${((100 * hits) / busy).toFixed(1).padStart(5)} %`;
  const seconds = ((profile.endTime - profile.startTime) / 1e6).toFixed(1);
  const lines = [`${basename(file)}: ${seconds} s, ${total} samples (${busy} not idle)`, "self time by part (of the non-idle samples):"];
  for (const [group, hits] of [...byPart].filter(([group]) => group !== "(idle)").sort((a, b) => b[1] - a[1])) lines.push(`  ${percent(hits)}  ${group}`);
  lines.push(`top ${top} frames by self time:`);
  for (const [frame, hits] of [...byFrame].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${percent(hits)}  ${frame}`);
  return lines.join("\n");
}

const [loop, ...flags] = process.argv.slice(2);
if (!loop || !LOOPS.includes(loop)) throw new Error(`usage: npx tsx bench/profile.ts <${LOOPS.join("|")}> [--install]`);
// Identifiers kept, so that the frames have their names; what is timed is the same code otherwise.
if (flags.includes("--install")) installPackedPackage(console.log, { readable: true });
mkdirSync(profilesDir, { recursive: true });
console.log(summarizeProfile(await runLoop(loop)));
