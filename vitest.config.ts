import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["daemon/**/*.test.ts", "client/**/*.test.ts", "test/**/*.test.ts"],
    // End-to-end tests start real daemons; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // A Node warning fails the run: a passing npm test prints none.
    setupFiles: ["test/quiet.ts"],
  },
});
