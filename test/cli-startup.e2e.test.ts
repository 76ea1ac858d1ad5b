/**
 * `pat` on PATH and its start-up cost (issue 16, item 5). The package
 * installs the same entry under two names, `pat` and `patternd` (`npx pat`
 * outside the checkout finds an unrelated registry package; `patternd` is
 * this package's own name). A call must stay cheap: the common commands
 * load none of the dependencies (the MCP SDK alone cost ~350 ms of CPU at
 * every start; it is loaded only by `pat mcp`). Wall time is measured, not
 * asserted here (it depends on the machine's load): see the issue's report.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, makeHome, ROOT, startDaemon, type Daemon } from "./harness.js";
import { PAT } from "./pat-process.js";

afterAll(cleanup);

/** Logs to stderr every module resolved from node_modules: what a command pays for at start. */
const HOOKS = `export async function resolve(specifier, context, next) {
  const found = await next(specifier, context);
  if (found.url.includes("/node_modules/")) process.stderr.write("DEPENDENCY " + found.url + "\\n");
  return found;
}`;
const REGISTER = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`;

/** Logs every module resolved (ours, Node's and dependencies'). */
const ALL_HOOKS = `export async function resolve(specifier, context, next) {
  const found = await next(specifier, context);
  process.stderr.write("MODULE " + found.url + "\\n");
  return found;
}`;
const REGISTER_ALL = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(ALL_HOOKS)}`)});`;

function dependenciesLoaded(home: string, args: readonly string[]): { dependencies: string[]; status: number | null; stdout: string } {
  const result = spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(REGISTER)}`, PAT, ...args, "--home", home], {
    encoding: "utf8",
    timeout: 20_000,
  });
  const dependencies = result.stderr.split("\n").filter((line) => line.startsWith("DEPENDENCY "));
  return { dependencies, status: result.status, stdout: result.stdout };
}

describe("pat on PATH, and what a call loads", () => {
  let d: Daemon;

  beforeAll(async () => {
    d = await startDaemon();
  });

  it("package.json installs the same entry as pat and as patternd; invoked as patternd, it answers like pat", async () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; bin: Record<string, string> };
    expect(manifest.bin).toEqual({ pat: "dist/client/cli/pat.js", patternd: "dist/client/cli/pat.js" });
    expect(manifest.name).toBe("patternd");
    // As npm link lays it out: a link on PATH named after the bin.
    const bin = await makeHome();
    await symlink(PAT, join(bin, "patternd"));
    const env = { ...process.env, PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH ?? ""}` };
    const run = spawnSync("patternd", ["send", "system:health", "--home", d.home], { env, encoding: "utf8", timeout: 20_000 });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: "ok", pid: d.pid });
  });

  it("an agent's pat send system:health loads only what it uses: no process starting, no lifecycle, handler, help or reload code", () => {
    const run = spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(REGISTER_ALL)}`, PAT, "send", "system:health", "--home", d.home], {
      encoding: "utf8",
      env: { ...process.env, PATTERND_AGENT_ID: "orch_startup" },
      timeout: 20_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const modules = run.stderr.split("\n").filter((line) => line.startsWith("MODULE ")).map((line) => line.slice("MODULE ".length));
    expect(modules).toContain(`file://${join(ROOT, "dist", "client", "client.js")}`);
    const loaded = (name: string) => modules.some((url) => url === name || url.endsWith(`/${name}`));
    for (const name of ["node:child_process", "lifecycle.js", "handle.js", "command-help.js", "render-help.js", "render-reload.js", "package-info.js", "person.js"]) {
      expect(loaded(name), name).toBe(false);
    }
    // A person's call (no agent named) asks git who they are: that one loads person.js and node:child_process.
    const person = spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(REGISTER_ALL)}`, PAT, "send", "system:health", "--home", d.home], {
      encoding: "utf8",
      env: Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== "PATTERND_AGENT_ID")),
      timeout: 20_000,
    });
    expect(person.status, person.stderr).toBe(0);
    expect(person.stderr).toMatch(/^MODULE node:child_process$/m);
  });

  it("pat send system:health, pat send with --key value, pat ls and pat watch's help load no dependency (the MCP SDK only for pat mcp)", () => {
    for (const args of [["send", "system:health"], ["send", "composition:list", "--type", "orchestration"], ["ls"], ["watch", "--help"], ["completion", "bash"]]) {
      const run = dependenciesLoaded(d.home, args);
      expect(run.status, args.join(" ")).toBe(0);
      expect(run.dependencies, args.join(" ")).toEqual([]);
    }
    // The hook does see dependencies where they are loaded: pat mcp (its standard input closed at once) loads the SDK.
    const mcp = spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(REGISTER)}`, PAT, "mcp", "--no-start", "--home", d.home], {
      encoding: "utf8",
      input: "",
      timeout: 20_000,
    });
    expect(mcp.stderr).toContain("DEPENDENCY ");
    expect(mcp.stderr).toContain("@modelcontextprotocol/server");
  });
});
