// The rendered API docs, as a person sees them: docs/index.html built by `npm run docs`, opened from disk in
// Debian's Chromium (driven by playwright-core; no browser download) with the network switched off. What must be
// on the page is read from openapi.yaml, never typed in here.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSpec, repoRoot, type OpenApiDocument } from "../../scripts/lib/spec.js";
import {
  DISAGREEMENTS_TAG,
  disagreements,
  ERROR_CODES_TAG,
  VERSIONS_TAG,
  type ApiVersionEntry,
} from "../../scripts/build-docs.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];
/** Redoc's footer shows the Redocly logo from its CDN, whatever the options; offline it is simply not shown. */
const KNOWN_LOGO_IMAGES = new Set([
  "https://cdn.redoc.ly/redoc/logo-mini-full.svg",
  "https://cdn.redoc.ly/redoc/logo-mini.svg",
]);
const docsFile = join(repoRoot, "docs", "index.html");
const screenshotFile = join(repoRoot, "test-results", "docs.png");

const haveChromium = existsSync(CHROMIUM);
const skip = !haveChromium && !process.env.CI;
if (skip) {
  console.warn(
    `test/docs skipped: ${CHROMIUM} not found. Install it with \`apt-get install -y chromium\` ` +
      "(never `playwright install`). In CI (env CI set) this test always runs.",
  );
}

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

interface Operation {
  kind: "path" | "webhook";
  /** The path template, or the webhook's name. */
  name: string;
  method: string;
  operationId: string;
  summary: string;
  requestSchema: Record<string, unknown> | undefined;
}

function resolve(spec: OpenApiDocument, node: unknown): Record<string, unknown> | undefined {
  if (!node || typeof node !== "object") return undefined;
  const ref = (node as { $ref?: string }).$ref;
  if (!ref) return node as Record<string, unknown>;
  return ref
    .replace(/^#\//, "")
    .split("/")
    .reduce<unknown>((at, key) => (at as Record<string, unknown>)[key.replaceAll("~1", "/").replaceAll("~0", "~")], spec) as
    | Record<string, unknown>
    | undefined;
}

function operationsOf(spec: OpenApiDocument): Operation[] {
  const list: Operation[] = [];
  const sections = [
    ["path", spec.paths],
    ["webhook", spec.webhooks],
  ] as const;
  for (const [kind, items] of sections) {
    for (const [name, item] of Object.entries(items)) {
      for (const method of HTTP_METHODS) {
        const operation = (item as Record<string, unknown>)[method] as
          | { operationId?: string; summary?: string; requestBody?: unknown }
          | undefined;
        if (!operation) continue;
        if (!operation.operationId || !operation.summary) {
          throw new Error(`openapi.yaml: ${method} ${name} needs an operationId and a summary for the docs`);
        }
        const body = resolve(spec, operation.requestBody) as { content?: Record<string, { schema?: unknown }> } | undefined;
        list.push({
          kind,
          name,
          method: method.toUpperCase(),
          operationId: operation.operationId,
          summary: operation.summary,
          requestSchema: resolve(spec, body?.content?.["application/json"]?.schema),
        });
      }
    }
  }
  return list;
}

describe.skipIf(skip)("docs/index.html in Chromium", () => {
  const spec = loadSpec();
  const operations = operationsOf(spec);
  const requests: string[] = [];
  let browser: Browser;
  let page: Page;
  let groupLinks: string[] = [];

  beforeAll(async () => {
    rmSync(screenshotFile, { force: true });
    const build = spawnSync("npm", ["run", "docs"], { cwd: repoRoot, encoding: "utf8" });
    expect(build.status, build.stdout + build.stderr).toBe(0);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    // offline: the page must render from the file alone.
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, offline: true });
    page = await context.newPage();
    page.on("request", (request) => requests.push(request.url()));
    await page.goto(pathToFileURL(docsFile).href, { waitUntil: "load" });
    await page.getByRole("heading", { name: String((spec.info as { title: string }).title) }).first().waitFor();
    groupLinks = await page
      .locator('[data-component-name="Menu/MenuItem"].menu-item-type-group > a')
      .evaluateAll((links) => links.map((link) => link.getAttribute("href") ?? ""));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  /** The side-menu entry with this label, opening the menu group that holds it. */
  async function menuItem(label: string): Promise<Locator> {
    const item = page.getByTestId("menu-item-label").filter({ hasText: label }).first();
    if (await item.isVisible()) return item;
    for (const href of groupLinks) {
      const group = page
        .locator('[data-component-name="Menu/MenuItem"]')
        .filter({ has: page.locator(`:scope > a[href="${href}"]`) })
        .first();
      const firstChild = group.getByTestId("menu-item-label").nth(1);
      // Clicking an open group could close it; open only closed ones.
      if (!(await firstChild.isVisible())) {
        await group.locator(":scope > a").click();
        await firstChild.waitFor({ state: "visible" });
      }
      if (await item.isVisible()) return item;
    }
    throw new Error(`no side-menu entry "${label}" in any menu group (${groupLinks.join(", ")})`);
  }

  /** Opens an operation from the side menu and returns its rendered section. */
  async function openOperation(operation: Operation): Promise<Locator> {
    const item = await menuItem(operation.summary);
    expect((await item.innerText()).split("\n").map((line) => line.trim())).toEqual([operation.summary, operation.method]);
    await item.click();
    const section = page
      .locator('[data-item-kind="httpItem"]')
      .filter({ has: page.getByRole("heading", { name: operation.summary }) })
      .first();
    await section.getByRole("heading", { name: operation.summary }).first().waitFor({ state: "visible" });
    // Redoc fills a section in after its heading shows; read it only once its text is there.
    await expect.poll(() => section.innerText(), { timeout: 15_000, interval: 100 }).toContain(operation.summary);
    return section;
  }

  it("is one self-contained file: no external scripts or stylesheets", () => {
    const html = readFileSync(docsFile, "utf8");
    expect(html.match(/<script[^>]*\ssrc=/gi)).toBeNull();
    expect(html.match(/<link[^>]*rel=["']?stylesheet/gi)).toBeNull();
    expect(html).toContain(String((spec.info as { title: string }).title));
  });

  it("shows every operation of openapi.yaml, with its method and path", async () => {
    const paths = operations.filter((operation) => operation.kind === "path");
    expect(paths.length).toBeGreaterThan(0);
    for (const operation of paths) {
      const section = await openOperation(operation);
      const text = await section.innerText();
      expect(text, operation.operationId).toContain(operation.name);
      expect(text, operation.operationId).toContain(operation.method);
    }
  }, 60_000);

  it("shows every webhook of openapi.yaml, marked as a webhook, with its name", async () => {
    const webhooks = operations.filter((operation) => operation.kind === "webhook");
    expect(webhooks.map((webhook) => webhook.name)).toEqual(Object.keys(spec.webhooks));
    for (const webhook of webhooks) {
      const section = await openOperation(webhook);
      const text = await section.innerText();
      expect(text, webhook.operationId).toContain("Webhook");
      expect(text, webhook.operationId).toMatch(new RegExp(`${webhook.method}\\s+${webhook.name}\\b`));
    }
  }, 60_000);

  it("offers each discriminated request body's values as choices (the five call actions)", async () => {
    const discriminated = operations.filter((operation) => operation.requestSchema?.discriminator);
    expect(discriminated.length).toBeGreaterThan(0);
    for (const operation of discriminated) {
      const { propertyName, mapping } = operation.requestSchema!.discriminator as {
        propertyName: string;
        mapping: Record<string, string>;
      };
      const values = Object.keys(mapping);
      const section = await openOperation(operation);
      const switcher = section.locator('[data-section-id="switcher"]').filter({ hasText: "Discriminator" }).first();
      const choices = switcher.getByRole("tab");
      expect(await choices.allInnerTexts()).toEqual(values);
      // The first choice is shown; choosing the last one shows that variant's discriminator value.
      expect(await choices.first().getAttribute("aria-selected")).toBe("true");
      const last = values.at(-1)!;
      await choices.filter({ hasText: new RegExp(`^${last}$`) }).click();
      expect(await choices.last().getAttribute("aria-selected")).toBe("true");
      const property = section.locator(`[id$="path=${propertyName}"]`).first();
      expect(await property.innerText()).toContain(`"${last}"`);
      await choices.first().click();
      if (operation === discriminated[0]) {
        // For people to look at: the request body with its choices.
        await switcher.evaluate((element) => element.scrollIntoView({ block: "center" }));
        mkdirSync(dirname(screenshotFile), { recursive: true });
        await page.screenshot({ path: screenshotFile });
      }
    }
    expect(existsSync(screenshotFile)).toBe(true);
  }, 60_000);

  it("shows the error-code catalogue from x-error-catalogue, one row per code", async () => {
    const item = await menuItem(ERROR_CODES_TAG);
    await item.click();
    await page.getByRole("heading", { name: ERROR_CODES_TAG }).first().waitFor({ state: "visible" });
    const table = page
      .locator("table")
      .filter({ has: page.locator("th", { hasText: /^token refresh$/ }) })
      .first();
    const header = await table.locator("th").allInnerTexts();
    expect(header).toEqual(["code", "title", "category", "retryable", "token refresh", "meaning"]);
    const rows = await table
      .locator("tbody tr")
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent?.trim() ?? "")));
    const expected = spec["x-error-catalogue"].codes.map((entry) => [
      String(entry.code),
      entry.title,
      entry.category,
      entry.retryable ? "yes" : "no",
      entry.token_refresh ? "yes" : "no",
      entry.description.replaceAll("`", ""),
    ]);
    expect(rows).toEqual(expected);
  }, 60_000);

  /** The rows of the table whose header has this column, as the text of their cells. */
  async function tableRows(column: string): Promise<string[][]> {
    const table = page
      .locator("table")
      .filter({ has: page.locator("th", { hasText: new RegExp(`^${column}$`) }) })
      .first();
    await table.waitFor({ state: "visible" });
    return table
      .locator("tbody tr")
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent?.trim() ?? "")));
  }
  const plain = (markdown: string) => markdown.replaceAll("`", "").replaceAll(/\s+/g, " ").trim();

  it("shows every x-sources-disagree note of openapi.yaml: where it stands and the choice", async () => {
    const notes = disagreements(spec);
    expect(notes.length).toBeGreaterThan(10);
    const item = await menuItem(DISAGREEMENTS_TAG);
    await item.click();
    await page.getByRole("heading", { name: DISAGREEMENTS_TAG }).first().waitFor({ state: "visible" });
    const rows = await tableRows("sources and choice");
    expect(rows.map((row) => row.map(plain))).toEqual(notes.map(({ where, choice }) => [where, plain(choice)]));
  }, 60_000);

  it("shows the x-api-versions changelog: each version and what changed for each endpoint", async () => {
    const entries = spec["x-api-versions"] as ApiVersionEntry[];
    const item = await menuItem(VERSIONS_TAG);
    await item.click();
    const heading = page.getByRole("heading", { name: VERSIONS_TAG }).first();
    await heading.waitFor({ state: "visible" });
    const tables = page.locator("table").filter({ has: page.locator("th", { hasText: /^what changed$/ }) });
    expect(await tables.count()).toBe(entries.length);
    const text = plain(await page.locator("body").innerText());
    for (const [index, entry] of entries.entries()) {
      expect(text).toContain(`${entry.version}${entry.previous ? ` (from ${entry.previous})` : ""}, ${entry.date}`);
      const rows = await tables
        .nth(index)
        .locator("tbody tr")
        .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent?.trim() ?? "")));
      expect(rows.map((row) => row.map(plain))).toEqual(Object.entries(entry.changes).map(([area, change]) => [area, plain(change)]));
      for (const source of entry.sources) expect(text).toContain(plain(source));
    }
  }, 60_000);

  it("made no request outside the file (except Redoc's logo image)", () => {
    const own = pathToFileURL(docsFile).href;
    const outside = requests.filter((url) => {
      if (url.startsWith("data:") || url.startsWith("blob:")) return false;
      if (url.startsWith("file:")) return url.split("#")[0] !== own;
      return !KNOWN_LOGO_IMAGES.has(url);
    });
    expect(requests.length).toBeGreaterThan(0);
    expect(outside).toEqual([]);
  });
});
