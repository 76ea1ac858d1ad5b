#!/usr/bin/env node
/**
 * `pat`'s entry; main.ts is pat itself. On Node 22.1 and later it first
 * asks Node to keep the compiled code of the modules it then loads on disk
 * (as tsc does since 5.7), so later calls load faster (issue 16, item 5).
 * Older Node has no such function.
 */
import module from "node:module";

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const { main } = await import("./main.js");

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`pat: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
