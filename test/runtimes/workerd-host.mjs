// Runs a worker in workerd through miniflare's API, from Node 20: `node workerd-host.mjs <project> <entry.js>`.
// workerd resolves a bare import relative to the importing module's folder, not through node_modules, so the
// worker is bundled first with esbuild and the conditions wrangler uses (workerd, worker, browser), as a
// Cloudflare Worker is deployed. The worker's JSON answer to one request is printed as the smoke report.
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [projectArgument, entry] = process.argv.slice(2);
const project = resolve(projectArgument);
const tools = createRequire(join(import.meta.dirname, "../../tools/runtimes/workerd/package.json"));
const { build } = await import(pathToFileURL(tools.resolve("esbuild")).href);
const { Miniflare } = await import(pathToFileURL(tools.resolve("miniflare")).href);
const workerdVersion = tools("workerd/package.json").version;

const bundle = await build({
  entryPoints: [join(project, entry)],
  absWorkingDir: project,
  bundle: true,
  write: false,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["browser", "module", "main"],
  logLevel: "error",
});

// workerd's build date is its compatibility date: every flag up to this version's release.
const compatibilityDate = /^1\.(\d{4})(\d{2})(\d{2})\./.exec(workerdVersion).slice(1).join("-");
const miniflare = new Miniflare({
  modules: true,
  script: bundle.outputFiles[0].text,
  compatibilityDate,
});
try {
  const response = await miniflare.dispatchFetch("http://worker.test/smoke");
  const report = await response.json();
  console.log(`SMOKE-REPORT ${JSON.stringify({ runtime: `workerd ${workerdVersion} (miniflare)`, report })}`);
} finally {
  await miniflare.dispose();
}
