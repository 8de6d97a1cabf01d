// Runs a worker in workerd through miniflare's API, from Node 20:
//
//   node workerd-host.mjs <project> <entry> <bindings.json> <requests.json>
//
// workerd resolves a bare import relative to the importing module's folder, not through node_modules, so the
// worker is bundled first with esbuild and the conditions wrangler uses (workerd, worker, browser), as a
// Cloudflare Worker is deployed. Each request of the list is dispatched in turn; the answers are printed on one
// marked line: `SMOKE-REPORT {"runtime": ..., "responses": [{ status, contentType, body }]}`.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [projectArgument, entry, bindingsFile, requestsFile] = process.argv.slice(2);
const project = resolve(projectArgument);
const bindings = JSON.parse(readFileSync(resolve(project, bindingsFile), "utf8"));
const requests = JSON.parse(readFileSync(resolve(project, requestsFile), "utf8"));
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
const miniflare = new Miniflare({ modules: true, script: bundle.outputFiles[0].text, compatibilityDate, bindings });
try {
  const responses = [];
  for (const { url, method, headers, body } of requests) {
    const response = await miniflare.dispatchFetch(url, { method, headers, body });
    responses.push({ status: response.status, contentType: response.headers.get("content-type"), body: await response.text() });
  }
  console.log(`SMOKE-REPORT ${JSON.stringify({ runtime: `workerd ${workerdVersion} (miniflare)`, responses })}`);
} finally {
  await miniflare.dispose();
}
