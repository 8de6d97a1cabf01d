// The fixtures, copied byte for byte from the shared fixtures (../shared/fixtures), read as the bytes they are.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures");

export function fixtureText(relativePath: string): string {
  return readFileSync(join(fixturesDir, relativePath), "utf8");
}

export function fixtureBytes(relativePath: string): Uint8Array {
  return new Uint8Array(readFileSync(join(fixturesDir, relativePath)));
}

export function fixtureJson<T = any>(relativePath: string): T {
  return JSON.parse(fixtureText(relativePath)) as T;
}

/** File names (relative to fixtures/) in a fixtures sub-folder, sorted. */
export function fixtureFiles(folder: string, pattern = /\.json$/): string[] {
  return readdirSync(join(fixturesDir, folder))
    .filter((name) => pattern.test(name))
    .sort()
    .map((name) => `${folder}/${name}`);
}
