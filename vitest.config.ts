import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Fails a test that looks up a name or sends to an address other than loopback.
    setupFiles: ["test/helpers/loopback-only.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
