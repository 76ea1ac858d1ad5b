/**
 * docs/protocol.md is generated from the daemon's own schemas; this fails
 * when the committed file is not what the generator writes today.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./harness.js";

describe("docs/protocol.md", () => {
  it("is what scripts/protocol-doc.ts generates from the running daemon (run `npm run docs` after changing an event)", async () => {
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(ROOT, "dist", "scripts", "protocol-doc.js"), "--check"], { encoding: "utf8" }, (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 1, stdout, stderr }),
      );
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("is current");
  });
});
