import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["daemon/**/*.test.ts", "client/**/*.test.ts", "test/**/*.test.ts"],
    // End-to-end tests start real daemons; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Vitest's default is one worker per core less one: a single worker on CI's 2 cores, idle while
    // an end-to-end test waits on its daemon, git and fsync. Two keep both cores busy (CI under 15 minutes).
    maxWorkers: 2,
    // A Node warning fails the run: a passing npm test prints none.
    setupFiles: ["test/quiet.ts"],
  },
});
