// npm run bump-api-version -- v24.0 [--force] [--skip-docs] [--skip-tests]
//
// Moves the package to another Graph API version. The version is written in one place, the `version` server
// variable of openapi.yaml (servers[0].variables.version.default); everything else follows from it:
//   1. rewrites that one YAML scalar in place (comments and formatting kept) and checks the result by re-parsing,
//      and adds an entry for the new version to the x-api-versions changelog of openapi.yaml, one TODO per
//      endpoint and for the webhooks: what changed is written there, and test/spec/api-versions.test.ts fails
//      until every TODO is replaced (going back with --force removes an entry whose TODOs were never filled),
//   2. regenerates generated/ (npm run generate),
//   3. rebuilds docs/index.html (npm run docs)            -- skipped with --skip-docs,
//   4. runs the type check and the tests                   -- skipped with --skip-tests,
//   5. prints old -> new, the files that changed, places that still name the old version, and a checklist.
// A malformed version or a step backwards (without --force) is refused before anything is written.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { pathToFileURL } from "node:url";
import { parse, parseDocument, Scalar, YAMLSeq } from "yaml";
import { buildDocs } from "./build-docs.js";
import { graphServer, repoRoot } from "./lib/spec.js";

const VERSION_PATH = ["servers", 0, "variables", "version", "default"] as const;

/** The changelog of Graph API versions in openapi.yaml, newest first. */
export const CHANGELOG_KEY = "x-api-versions";
/** What each changelog entry says something about: the endpoints of openapi.yaml and its webhooks. */
export const CHANGELOG_AREAS = ["/calls", "/call_permissions", "/settings", "/messages", "webhooks"] as const;
export const TODO = "TODO";

export const USAGE = `Usage: npm run bump-api-version -- <version> [--force] [--skip-docs] [--skip-tests]

  <version>      the new Graph API version, e.g. v24.0
  --force        allow going back to an older version
  --skip-docs    do not rebuild docs/index.html
  --skip-tests   do not run the type check and the tests
`;

export class BumpError extends Error {}

/** `vMAJOR.MINOR` -> [MAJOR, MINOR], for ordering; the form itself is checked against the spec's x-pattern. */
function versionNumbers(version: string): number[] {
  return (version.match(/\d+/g) ?? []).map(Number);
}

export function compareVersions(a: string, b: string): number {
  const [x, y] = [versionNumbers(a), versionNumbers(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const difference = (x[i] ?? 0) - (y[i] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

/**
 * openapi.yaml's text with servers[0].variables.version.default replaced and nothing else touched: the scalar's
 * source range is rewritten in the same quoting style. The result is parsed again and must equal the old
 * document with only that value changed.
 */
export function setDefaultVersion(text: string, version: string): string {
  const document = parseDocument(text);
  const node = document.getIn(VERSION_PATH, true);
  if (!(node instanceof Scalar) || typeof node.value !== "string" || !node.range) {
    throw new BumpError("openapi.yaml: servers[0].variables.version.default is not a string scalar");
  }
  const literal =
    node.type === Scalar.QUOTE_DOUBLE ? JSON.stringify(version) : node.type === Scalar.QUOTE_SINGLE ? `'${version}'` : version;
  if (node.type !== Scalar.PLAIN && node.type !== Scalar.QUOTE_DOUBLE && node.type !== Scalar.QUOTE_SINGLE) {
    throw new BumpError(`openapi.yaml: the version is written as a ${node.type} scalar; write it on one line`);
  }
  const [start, end] = node.range;
  const updated = text.slice(0, start) + literal + text.slice(end);

  const expected = parse(text) as { servers: { variables: { version: { default: string } } }[] };
  expected.servers[0]!.variables.version.default = version;
  if (!isDeepStrictEqual(parse(updated), expected)) {
    throw new BumpError("openapi.yaml: rewriting the version changed more than the version; nothing was written");
  }
  return updated;
}

/** The versions whose changelogs must be read to go from `from` to `to`: every major after `from` up to `to`. */
export function versionsBetween(from: string, to: string): string[] {
  const [low, high] = [versionNumbers(from)[0] ?? 0, versionNumbers(to)[0] ?? 0];
  const majors = Array.from({ length: Math.max(0, high - low) }, (_, index) => low + index + 1);
  return majors.map((major) => (major === high ? to : `v${major}.0`));
}

function changelogItems(text: string) {
  const document = parseDocument(text);
  const list = document.get(CHANGELOG_KEY, true);
  if (!(list instanceof YAMLSeq) || list.items.length === 0 || !list.range) {
    throw new BumpError(`openapi.yaml: ${CHANGELOG_KEY} must be a list of versions, newest first, with at least one entry`);
  }
  return list;
}

/** The offset where the line holding `offset` starts. */
function lineStart(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

/** The entry the command adds for a new version: one TODO per area, to be replaced by what changed. */
export function changelogEntry(from: string, to: string, date: string) {
  return {
    version: to,
    previous: from,
    date,
    read: versionsBetween(from, to),
    sources: [`${TODO}: the pages read, with their "Updated" date`],
    changes: Object.fromEntries(CHANGELOG_AREAS.map((area) => [area, `${TODO}: what changed from ${from} to ${to}, or "nothing documented"`])),
  };
}

/**
 * openapi.yaml's text with a changelog entry for `to` added at the top of x-api-versions (nothing else touched);
 * the text unchanged when the list already has an entry for `to`.
 */
export function addChangelogEntry(text: string, from: string, to: string, date: string): string {
  const list = changelogItems(text);
  const entries = (parse(text) as Record<string, { version?: string }[]>)[CHANGELOG_KEY]!;
  if (entries.some((entry) => entry.version === to)) return text;
  const first = list.items[0] as { range?: [number, number, number] };
  const start = lineStart(text, first.range![0]);
  const indent = " ".repeat(text.slice(start).search(/-/));
  const entry = changelogEntry(from, to, date);
  const yaml = (value: string) => JSON.stringify(value);
  const lines = [
    `- version: ${entry.version}`,
    `  previous: ${entry.previous}`,
    `  date: ${yaml(entry.date)}`,
    `  read: [${entry.read.join(", ")}]`,
    `  sources:`,
    ...entry.sources.map((source) => `    - ${yaml(source)}`),
    `  changes:`,
    ...Object.entries(entry.changes).map(([area, change]) => `    ${area}: ${yaml(change)}`),
  ];
  const updated = text.slice(0, start) + lines.map((line) => indent + line + "\n").join("") + text.slice(start);

  const expected = parse(text) as Record<string, unknown[]>;
  expected[CHANGELOG_KEY] = [entry, ...expected[CHANGELOG_KEY]!];
  if (!isDeepStrictEqual(parse(updated), expected)) {
    throw new BumpError(`openapi.yaml: adding the ${to} changelog entry changed more than that; nothing was written`);
  }
  return updated;
}

/** openapi.yaml's text without the newest changelog entry if it is for `version` and still has a TODO. */
export function removeUnfilledChangelogEntry(text: string, version: string): string {
  const list = changelogItems(text);
  const entries = (parse(text) as Record<string, { version?: string }[]>)[CHANGELOG_KEY]!;
  if (entries[0]?.version !== version || !JSON.stringify(entries[0]).includes(TODO) || list.items.length < 2) return text;
  const [first, second] = list.items as { range?: [number, number, number] }[];
  const updated = text.slice(0, lineStart(text, first!.range![0])) + text.slice(lineStart(text, second!.range![0]));
  const expected = parse(text) as Record<string, unknown[]>;
  expected[CHANGELOG_KEY] = expected[CHANGELOG_KEY]!.slice(1);
  if (!isDeepStrictEqual(parse(updated), expected)) {
    throw new BumpError(`openapi.yaml: removing the unfilled ${version} changelog entry changed more than that`);
  }
  return updated;
}

export interface BumpArguments {
  version: string;
  force: boolean;
  skipDocs: boolean;
  skipTests: boolean;
}

export function parseArguments(argv: string[]): BumpArguments | "help" {
  const flags = { force: false, skipDocs: false, skipTests: false };
  const positional: string[] = [];
  for (const argument of argv) {
    if (argument === "--help" || argument === "-h") return "help";
    else if (argument === "--force") flags.force = true;
    else if (argument === "--skip-docs") flags.skipDocs = true;
    else if (argument === "--skip-tests") flags.skipTests = true;
    else if (argument.startsWith("-")) throw new BumpError(`unknown option ${argument}\n\n${USAGE}`);
    else positional.push(argument);
  }
  if (positional.length !== 1) {
    throw new BumpError(`expected exactly one version, got ${positional.length ? positional.join(" ") : "none"}\n\n${USAGE}`);
  }
  return { version: positional[0]!, ...flags };
}

const SKIPPED_DIRECTORIES = new Set(["node_modules", ".git", "dist", "test-results", "coverage"]);

/** Content hashes of the repository's files (build output and dependencies left out). */
function snapshot(root: string): Map<string, string> {
  const hashes = new Map<string, string>();
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name)) walk(path);
      } else if (entry.isFile()) {
        hashes.set(relative(root, path), createHash("sha256").update(readFileSync(path)).digest("hex"));
      }
    }
  };
  walk(root);
  return hashes;
}

function changedFiles(before: Map<string, string>, after: Map<string, string>): string[] {
  const lines: string[] = [];
  for (const [path, hash] of after) {
    if (!before.has(path)) lines.push(`  added    ${path}`);
    else if (before.get(path) !== hash) lines.push(`  changed  ${path}`);
  }
  for (const path of before.keys()) if (!after.has(path)) lines.push(`  removed  ${path}`);
  return lines.sort((a, b) => a.slice(11).localeCompare(b.slice(11)));
}

/** The first and last line (1-based) of the x-api-versions list in openapi.yaml's text. */
function changelogLines(text: string): [number, number] {
  const range = changelogItems(text).range!;
  const lineOf = (offset: number) => text.slice(0, offset).split("\n").length;
  return [lineOf(range[0]), lineOf(range[1])];
}

/** Hand-written places that still name the old version: examples, docs, tests that may need to move too. */
function mentionsOf(root: string, files: Iterable<string>, version: string): string[] {
  const found: string[] = [];
  const word = new RegExp(`(?<![\\w.])${version.replaceAll(".", "\\.")}(?![\\w.])`);
  for (const file of files) {
    if (file.startsWith("generated/") || file.startsWith("docs/") || file === "package-lock.json") continue;
    const path = join(root, file);
    if (statSync(path).size > 1_000_000) continue;
    const text = readFileSync(path, "utf8");
    if (text.includes("\u0000")) continue;
    // The changelog names old versions on purpose.
    const [first, last] = file === "openapi.yaml" ? changelogLines(text) : [0, 0];
    text.split("\n").forEach((line, index) => {
      const inHistory = index + 1 >= first && index + 1 <= last;
      if (word.test(line) && !inHistory) found.push(`  ${file}:${index + 1}: ${line.trim().slice(0, 100)}`);
    });
  }
  return found;
}

function run(root: string, command: string, args: string[]): void {
  console.log(`\n$ ${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new BumpError(`\`${command} ${args.join(" ")}\` failed with exit code ${result.status}`);
}

export const CHECKLIST = (from: string, to: string) => `Before you commit, read Meta's changelogs for ${versionsBetween(from, to).join(", ")}:
  [ ] Graph API changelog (https://developers.facebook.com/docs/graph-api/changelog): breaking changes of
      ${versionsBetween(from, to).join(", ")}, and the deprecation date of ${from} (each version is usable for at
      least two years: https://developers.facebook.com/docs/apps/versions).
  [ ] The generated Calling API reference, its version selector and its OpenAPI download
      (https://developers.facebook.com/documentation/business-messaging/whatsapp/reference/whatsapp-business-phone-number/calling-api),
      the Settings API reference (…/whatsapp-business-phone-number/settings-api), and the Calling pages with their
      changelog (https://developers.facebook.com/documentation/business-messaging/whatsapp/calling, "Changelog";
      …/calling/reference, …/calling/call-settings, …/calling/user-call-permissions, …/calling/troubleshooting):
      renamed or removed fields in the calls / call_permissions / settings / messages bodies, new or changed webhook
      fields and call events, new, renamed or retired error codes, changed limits.
  [ ] Replace every TODO of the ${to} entry of ${CHANGELOG_KEY} in openapi.yaml with what changed (or "nothing
      documented") and the pages read; test/spec/api-versions.test.ts fails until then.
  [ ] Write the changes themselves into openapi.yaml (schemas, webhooks, x-error-catalogue), then run
      \`npm run generate\` and the tests again.
  [ ] Look at the places above that still say ${from} (README examples, tests).
  [ ] Review and commit openapi.yaml and generated/ together; note the new default version in the release
      notes (callers that do not pass apiVersion now call ${to}).
  [ ] \`npm run build\` before using dist/ (npm pack and npm publish do it themselves).`;

export function bump(root: string, argv: string[]): number {
  const args = parseArguments(argv);
  if (args === "help") {
    console.log(USAGE);
    return 0;
  }
  const specFile = join(root, "openapi.yaml");
  const originalText = readFileSync(specFile, "utf8");
  const server = graphServer(parse(originalText));
  const current = server.defaultVersion;
  const pattern = new RegExp(server.versionPattern);

  if (!pattern.test(args.version)) {
    throw new BumpError(
      `"${args.version}" is not a Graph API version: it must look like v24.0 (openapi.yaml x-pattern ${server.versionPattern}). ` +
        `Nothing was changed.`,
    );
  }
  const order = compareVersions(args.version, current);
  if (order === 0) {
    console.log(`openapi.yaml already uses ${current}; nothing to do.`);
    return 0;
  }
  if (order < 0 && !args.force) {
    throw new BumpError(
      `${args.version} is older than the current ${current}. Going back is refused; pass --force if you mean it. ` +
        `Nothing was changed.`,
    );
  }

  const today = new Date().toISOString().slice(0, 10);
  const withVersion = setDefaultVersion(originalText, args.version);
  const updatedText =
    order > 0
      ? addChangelogEntry(withVersion, current, args.version, today)
      : removeUnfilledChangelogEntry(withVersion, current);
  const before = snapshot(root);
  const generatedDir = join(root, "generated");
  const generatedBefore = new Map(
    existsSync(generatedDir)
      ? readdirSync(generatedDir).map((name) => [name, readFileSync(join(generatedDir, name))] as const)
      : [],
  );

  console.log(`Graph API version: ${current} -> ${args.version}${order < 0 ? " (backwards, --force)" : ""}`);
  writeFileSync(specFile, updatedText);
  console.log(`openapi.yaml: servers[0].variables.version.default = ${args.version}`);
  if (order > 0 && updatedText !== withVersion) {
    console.log(`openapi.yaml: ${CHANGELOG_KEY} has a new ${args.version} entry; replace its TODOs with what changed`);
  } else if (order < 0 && updatedText !== withVersion) {
    console.log(`openapi.yaml: ${CHANGELOG_KEY} lost the unfilled ${current} entry`);
  }
  try {
    run(root, "npm", ["run", "--silent", "generate"]);
  } catch (error) {
    // Leave the repository as it was: the old spec and the old generated files.
    writeFileSync(specFile, originalText);
    for (const name of readdirSync(generatedDir)) if (!generatedBefore.has(name)) rmSync(join(generatedDir, name));
    for (const [name, content] of generatedBefore) writeFileSync(join(generatedDir, name), content);
    throw new BumpError(`${(error as Error).message}; openapi.yaml and generated/ were restored.`);
  }

  const failures: string[] = [];
  if (args.skipDocs) console.log("\ndocs: skipped (--skip-docs); run `npm run docs` later.");
  else {
    console.log("\n$ npm run docs");
    const { output, bytes } = buildDocs({ root });
    console.log(`${relative(root, output)}: ${(bytes / 1024).toFixed(0)} KiB`);
  }
  if (args.skipTests) console.log("\ntests: skipped (--skip-tests); run `npm run typecheck && npm test` before committing.");
  else {
    for (const script of ["typecheck", "test"]) {
      try {
        run(root, "npm", ["run", "--silent", script]);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  }

  const after = snapshot(root);
  console.log(`\n== Graph API version ${current} -> ${args.version} ==`);
  console.log("\nFiles changed:");
  console.log(changedFiles(before, after).join("\n") || "  (none)");
  const mentions = mentionsOf(root, after.keys(), current);
  console.log(`\nStill naming ${current} (hand-written; decide for each):`);
  console.log(mentions.join("\n") || "  (none)");
  console.log(`\n${CHECKLIST(current, args.version)}`);
  if (failures.length) {
    console.error(
      `\nThe version was changed, but checks failed:\n  ${failures.join("\n  ")}\n` +
        `Fix them, or go back with \`npm run bump-api-version -- ${current} --force\`.`,
    );
    return 1;
  }
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    process.exitCode = bump(repoRoot, process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof BumpError)) throw error;
    console.error(`bump-api-version: ${error.message}`);
    process.exitCode = 1;
  }
}
