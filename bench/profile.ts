// CPU profiles of the measured loops, whatsapp-calling's side only, on the packed package (built and installed
// by `npm run bench`, or by this script with --install):
//
//   npx tsx bench/profile.ts <loop> [--install]   loops: terminate, stub, verify-connect, verify-batch,
//                                                  handler-connect, handler-batch, node-server, dedupe
//
// It re-runs itself under `node --cpu-prof` (for node-server, the profiled process is bench/server.ts), writes the
// .cpuprofile to test-results/profiles/ and prints the top frames by self time and the share of each part
// (package, openapi-fetch, undici, web streams, other node internals, GC, V8/native).
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { stubFetch, terminators } from "./client.js";
import { batchPool, connectPool, SIGNATURE_HEADER } from "./fixtures.js";
import { importFromPackage, installPackedPackage, outputDir, repoRoot } from "./package.js";
import { startServer } from "./remote.js";
import { handlers, toRequest, verifiers } from "./webhooks.js";

const LOOPS = ["terminate", "stub", "verify-connect", "verify-batch", "handler-connect", "handler-batch", "node-server", "dedupe"];
const profilesDir = join(outputDir, "profiles");

async function runLoop(loop: string): Promise<void> {
  const webhooks = await importFromPackage("whatsapp-calling/webhooks");
  const repeat = async (count: number, operation: (index: number) => unknown) => {
    for (let index = 0; index < count; index += 1) await operation(index);
  };
  switch (loop) {
    case "terminate":
    case "stub": {
      const server = loop === "terminate" ? await startServer() : undefined;
      const send = (await terminators(server ? `http://127.0.0.1:${server.ports.graph}` : "http://127.0.0.1:9", server ? fetch : stubFetch))["whatsapp-calling"]!;
      await repeat(loop === "terminate" ? 6_000 : 10_000, send);
      server?.close();
      return;
    }
    case "verify-connect":
    case "verify-batch": {
      const pool = loop === "verify-connect" ? connectPool(2_000) : batchPool(30);
      const verify = (await verifiers(webhooks))["whatsapp-calling"]!;
      await repeat(loop === "verify-connect" ? 20_000 : 300, (index) => verify(pool[index % pool.length]!));
      return;
    }
    case "handler-connect":
    case "handler-batch": {
      const pool = loop === "handler-connect" ? connectPool(2_000) : batchPool(30);
      const make = (await handlers(webhooks))["whatsapp-calling"]!;
      for (let round = 0; round < 10; round += 1) {
        const handle = make();
        const requests = pool.map(toRequest);
        await repeat(requests.length, (index) => handle(requests[index]!));
      }
      return;
    }
    case "node-server": {
      mkdirSync(profilesDir, { recursive: true });
      const server = await startServer(["--cpu-prof", "--cpu-prof-dir", profilesDir]);
      const pool = connectPool(2_000);
      const url = `http://127.0.0.1:${server.ports["whatsapp-calling"]}/webhooks/whatsapp`;
      for (let round = 0; round < 3; round += 1) {
        await server.ask("reset");
        for (const { bytes, signature } of pool) {
          const response = await fetch(url, { method: "POST", headers: { [SIGNATURE_HEADER]: signature }, body: bytes });
          await response.arrayBuffer();
        }
      }
      server.close();
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // the server writes its profile as it exits
      return;
    }
    case "dedupe": {
      for (let round = 0; round < 10; round += 1) {
        const store = webhooks.createMemoryDedupeStore();
        for (let index = 0; index < 60_000; index += 1) {
          const key = `wacid.${round}-${index}:connect`;
          if (!store.has(key)) store.add(key);
        }
      }
      return;
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
  if (url.includes("/openapi-fetch/")) return "openapi-fetch";
  if (url.includes("undici")) return "undici";
  if (url.includes("webstreams")) return "web streams";
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
  const lines = [`${basename(file)}: ${total} samples, ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s, ${busy} not idle`, "self time by part (of the non-idle samples):"];
  for (const [group, hits] of [...byPart].filter(([group]) => group !== "(idle)").sort((a, b) => b[1] - a[1])) lines.push(`  ${percent(hits)}  ${group}`);
  lines.push(`top ${top} frames by self time:`);
  for (const [frame, hits] of [...byFrame].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${percent(hits)}  ${frame}`);
  return lines.join("\n");
}

const [loop, ...flags] = process.argv.slice(2);
if (flags.includes("--child")) {
  await runLoop(loop!);
} else {
  if (!loop || !LOOPS.includes(loop)) throw new Error(`usage: npx tsx bench/profile.ts <${LOOPS.join("|")}> [--install]`);
  if (flags.includes("--install")) installPackedPackage(console.log);
  rmSync(profilesDir, { recursive: true, force: true });
  mkdirSync(profilesDir, { recursive: true });
  const profiled = loop === "node-server" ? [] : ["--cpu-prof", "--cpu-prof-dir", profilesDir];
  execFileSync(process.execPath, [...profiled, "--import", "tsx", join(import.meta.dirname, "profile.ts"), loop, "--child"], { cwd: repoRoot, stdio: "inherit" });
  const files = readdirSync(profilesDir)
    .filter((name) => name.endsWith(".cpuprofile"))
    .map((name) => join(profilesDir, name))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  // The largest profile is the loop's process (tsx's loader thread writes a small one of its own).
  console.log(summarizeProfile(files[0]!));
}
