// The x-api-versions changelog of openapi.yaml: the default Graph API version has an entry, filled in (the TODOs
// `npm run bump-api-version` writes are replaced), newest first, each naming what changed for every endpoint.
import { describe, expect, it } from "vitest";
import { CHANGELOG_AREAS, CHANGELOG_KEY, TODO, compareVersions } from "../../scripts/bump-api-version.js";
import type { ApiVersionEntry as Entry } from "../../scripts/build-docs.js";
import { graphServer, loadSpec } from "../../scripts/lib/spec.js";

const spec = loadSpec();
const entries = spec[CHANGELOG_KEY] as Entry[];

describe(`openapi.yaml ${CHANGELOG_KEY}`, () => {
  it("starts with the default version", () => {
    expect(entries[0]?.version).toBe(graphServer(spec).defaultVersion);
  });

  it("has no TODO left", () => {
    const unfilled = entries.filter((entry) => JSON.stringify(entry).includes(TODO)).map((entry) => entry.version);
    expect(unfilled).toEqual([]);
  });

  it.each(entries.map((entry) => [entry.version, entry] as const))("%s says what changed for each endpoint and the webhooks, and where it read it", (_, entry) => {
    expect(Object.keys(entry.changes).sort()).toEqual([...CHANGELOG_AREAS].sort());
    for (const change of Object.values(entry.changes)) expect(change.trim().length).toBeGreaterThan(10);
    expect(entry.sources.length).toBeGreaterThan(0);
    expect(entry.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(entry.read).toContain(entry.version);
  });

  it("is newest first, each entry naming the one before it", () => {
    for (let index = 1; index < entries.length; index++) {
      expect(compareVersions(entries[index - 1]!.version, entries[index]!.version)).toBe(1);
      expect(entries[index - 1]!.previous).toBe(entries[index]!.version);
    }
  });
});
