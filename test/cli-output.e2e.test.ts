/**
 * Issue 16, item 1: output a person can pipe. The compiled `pat` against a
 * real daemon in a temporary home: redirected to a file, piped into grep,
 * and on a pseudo-terminal (script(1)). Text is the default for the named
 * commands wherever stdout goes; pat send prints JSON when piped; every
 * command takes -o text|json|yaml; tables have a header and fit the
 * terminal; colour only on a terminal, and not with NO_COLOR or --no-color.
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { cleanup, makeHome, ROOT, startDaemon, type Daemon } from "./harness.js";
import { hasScript, json, pat, PAT, patOnTerminal, type Run } from "./pat-process.js";
import { git, gitRun } from "./store-git.js";

afterAll(cleanup);

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const GREEN = "\u001b[32m";
const RED = "\u001b[31m";

/** `pat ARGS --home HOME > file`: stdout is the file itself, as a shell redirect makes it. */
function patToFile(home: string, args: readonly string[], file: string): Promise<Run> {
  const fd = openSync(file, "w");
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [PAT, ...args, "--home", home], { cwd: ROOT, stdio: ["ignore", fd, "pipe"] });
    closeSync(fd);
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolveRun({ code, stdout: "", stderr }));
  });
}

/** `pat ARGS --home HOME | grep PATTERN` through sh: the words go in as arguments, never into the script. */
function patPipedToGrep(home: string, args: readonly string[], pattern: string): Run {
  const script = 'pattern="$1"; home="$2"; shift 2; "$@" --home "$home" | grep -E "$pattern"';
  const result = spawnSync("sh", ["-c", script, "sh", pattern, home, process.execPath, PAT, ...args], { cwd: ROOT, encoding: "utf8", timeout: 20_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("pat output a person can pipe", () => {
  let d: Daemon;
  let store: string;
  let scratch: string;

  beforeAll(async () => {
    d = await startDaemon();
    store = join(d.home, "var", "lib", "compositions");
    scratch = await makeHome();
    const fork = await pat(d.home, ["fork", "tournament", "tournament_out", "--reason", "output tests", "--set", "variables.rounds.default=4"]);
    expect(fork.code, fork.stderr).toBe(0);
  });

  it("pat show X > x.yaml writes the pattern's YAML, exactly the file in the store", async () => {
    const file = join(scratch, "x.yaml");
    const run = await patToFile(d.home, ["show", "tournament"], file);
    expect(run.code, run.stderr).toBe(0);
    const written = await readFile(file, "utf8");
    expect(written).toBe(await readFile(join(store, "orchestrations", "tournament.yaml"), "utf8"));
    expect(parseYaml(written)).toMatchObject({ name: "tournament", type: "orchestration" });
  });

  it("pat diff --unified > p.patch writes a patch that patch(1) applies; no colour in it; an empty diff writes nothing", async () => {
    const file = join(scratch, "p.patch");
    const run = await patToFile(d.home, ["diff", "tournament", "tournament_out", "--unified"], file);
    expect(run.code, run.stderr).toBe(0);
    const patch = await readFile(file, "utf8");
    expect(patch).toMatch(/^--- a\/orchestrations\/tournament\.yaml\t\(tournament@2\.0\.0, current file\)\n\+\+\+ b\/orchestrations\/tournament_out\.yaml\t/);
    expect(patch).toMatch(/^\+name: tournament_out$/m);
    expect(patch).not.toMatch(ANSI);
    // Applied to a copy of the left side, it makes the right side.
    const copy = join(scratch, "tournament.yaml");
    await copyFile(join(store, "orchestrations", "tournament.yaml"), copy);
    const applied = spawnSync("patch", ["--quiet", copy, file], { encoding: "utf8" });
    expect(applied.status, applied.stdout + applied.stderr).toBe(0);
    expect(await readFile(copy, "utf8")).toBe(await readFile(join(store, "orchestrations", "tournament_out.yaml"), "utf8"));

    const empty = join(scratch, "empty.patch");
    const same = await patToFile(d.home, ["diff", "tournament", "tournament", "--unified"], empty);
    expect(same.code, same.stderr).toBe(0);
    expect(await readFile(empty, "utf8")).toBe("");
    expect(same.stderr).toContain("no differences between tournament and tournament");
  });

  it("pat diff NAME@V1 NAME@V2 --unified > p.patch: git apply --check takes it in a checkout of the store at V1, and applying it makes V2", async () => {
    const set = await pat(d.home, ["set", "tournament_out", "variables.rounds.default=6", "description=Patched for the apply test."]);
    expect(set.code, set.stderr).toBe(0);
    const file = join(scratch, "versions.patch");
    const run = await patToFile(d.home, ["diff", "tournament_out@0.1.0", "tournament_out@0.1.1", "--unified"], file);
    expect(run.code, run.stderr).toBe(0);
    const patch = await readFile(file, "utf8");
    expect(patch).toMatch(/^--- a\/orchestrations\/tournament_out\.yaml\t\(tournament_out@0\.1\.0\)\n\+\+\+ b\/orchestrations\/tournament_out\.yaml\t\(tournament_out@0\.1\.1\)\n@@ /);
    const checkout = join(scratch, "checkout");
    await git(scratch, "clone", "--quiet", store, checkout);
    await git(checkout, "checkout", "--quiet", "tournament_out@0.1.0");
    const check = await gitRun(checkout, ["apply", "--check", file]);
    expect(check.code, check.stderr).toBe(0);
    await git(checkout, "apply", file);
    expect(await readFile(join(checkout, "orchestrations", "tournament_out.yaml"), "utf8")).toBe(await git(store, "show", "tournament_out@0.1.1:orchestrations/tournament_out.yaml"));
    // patch(1) takes it too, with the usual -p1.
    await git(checkout, "checkout", "--quiet", "--", ".");
    const applied = spawnSync("patch", ["-p1", "--dry-run", "-i", file], { cwd: checkout, encoding: "utf8" });
    expect(applied.status, applied.stdout + applied.stderr).toBe(0);
  });

  it("pat ls | grep greps lines: a header row, then one whole row per pattern", async () => {
    const grepped = patPipedToGrep(d.home, ["ls", "--type", "orchestration"], "^tournament +orchestration");
    expect(grepped.code, grepped.stderr).toBe(0);
    expect(grepped.stdout).toMatch(/^tournament +orchestration +2\.0\.0 +Ranks many candidate outputs by pairwise matches judged blind, .*\.\n/);
    const piped = await pat(d.home, ["ls"]);
    expect(piped.code, piped.stderr).toBe(0);
    const lines = piped.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME +TYPE +VERSION +DESCRIPTION$/);
    expect(lines.some((line) => line.startsWith("tournament_out "))).toBe(true);
    // Not a terminal: nothing is cut to a width, and there is no colour.
    expect(piped.stdout).not.toContain("…");
    expect(piped.stdout).not.toMatch(ANSI);
  });

  it("named commands print text when piped (status, history, discover, fork); -o json, --json and -o yaml give the data", async () => {
    const status = await pat(d.home, ["status"]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^patternd \S+ running, pid \d+/);
    expect(() => JSON.parse(status.stdout) as unknown).toThrow();
    expect((await pat(d.home, ["history", "tournament"])).stdout).toMatch(/^COMMIT +DATE +VERSION +OP +AUTHOR +MESSAGE\n/);
    expect((await pat(d.home, ["discover", "system"])).stdout).toMatch(/^EVENT +SUMMARY\nsystem:/);

    for (const args of [["-o", "json"], ["--output", "json"], ["--json"], ["--output=json"]]) {
      expect(json(await pat(d.home, ["status", ...args])), args.join(" ")).toMatchObject({ running: true, pid: d.pid });
    }
    const asJson = json<{ compositions: { name: string }[] }>(await pat(d.home, ["ls", "-o", "json"]));
    const asYaml = await pat(d.home, ["ls", "-o", "yaml"]);
    expect(asYaml.code, asYaml.stderr).toBe(0);
    expect(parseYaml(asYaml.stdout)).toEqual(asJson);
    const shown = parseYaml((await pat(d.home, ["show", "tournament", "-o", "yaml"])).stdout) as { name: string; yaml: string };
    expect(shown).toMatchObject({ name: "tournament", version: "2.0.0" });
    expect(shown.yaml).toBe(await readFile(join(store, "orchestrations", "tournament.yaml"), "utf8"));
  });

  it("pat send (and pat call) print JSON when piped, for the agents that parse them; -o text and -o yaml when asked", async () => {
    const sent = await pat(d.home, ["send", "system:health"]);
    expect(json(sent)).toMatchObject({ status: "ok", pid: d.pid });
    const text = await pat(d.home, ["send", "system:health", "-o", "text"]);
    expect(text.stdout).toMatch(/^status: ok$/m);
    expect(parseYaml((await pat(d.home, ["send", "system:health", "-o", "yaml"])).stdout)).toMatchObject({ status: "ok", pid: d.pid });
    // An error: the reply's error on stdout in the format asked for, the readable form on stderr.
    const missing = await pat(d.home, ["show", "no_such_pattern", "-o", "yaml"]);
    expect(missing.code).toBe(1);
    expect(parseYaml(missing.stdout)).toMatchObject({ error: { code: "not_found" } });
    expect(missing.stderr).toContain("error [not_found]");
    const textError = await pat(d.home, ["show", "no_such_pattern"]);
    expect(textError.stdout).toBe("");
    expect(textError.stderr).toMatch(/^error \[not_found\]: /);
  });

  it("-o takes text, json or yaml; anything else is a usage error naming them", async () => {
    const bad = await pat(d.home, ["ls", "-o", "xml"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("-o must be one of text, json, yaml (got xml)");
    const none = await pat(d.home, ["ls", "--output"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("--output needs a value: text, json, yaml");
  });

  it.skipIf(!hasScript)("on a terminal: tables fit its width, the last column cut with …; colour on diffs and error codes", () => {
    for (const columns of [60, 100]) {
      const ls = patOnTerminal(d.home, ["ls"], { COLUMNS: String(columns) });
      expect(ls.code, ls.stdout).toBe(0);
      const lines = ls.stdout.replace(ANSI, "").trimEnd().split("\n");
      expect(lines[0]).toMatch(/^NAME +TYPE +VERSION +DESC/);
      for (const line of lines) expect(line.replace(ANSI, "").length, line).toBeLessThanOrEqual(columns);
      expect(lines.find((line) => line.startsWith("tournament "))).toMatch(/…$/);
    }
    // A terminal that does not say its width (script's) is taken as 80 columns.
    const unsized = patOnTerminal(d.home, ["discover"]).stdout.replace(ANSI, "").trimEnd().split("\n");
    for (const line of unsized) expect(line.length, line).toBeLessThanOrEqual(80);

    const diff = patOnTerminal(d.home, ["diff", "tournament", "tournament_out", "--unified"]);
    expect(diff.code, diff.stdout).toBe(0);
    expect(diff.stdout).toContain(`${GREEN}+name: tournament_out`);
    expect(diff.stdout).toContain(`${RED}-name: tournament`);
    const changes = patOnTerminal(d.home, ["diff", "tournament", "tournament_out"]);
    expect(changes.stdout).toContain(`${GREEN}+ lineage`);
    const error = patOnTerminal(d.home, ["show", "no_such_pattern"]);
    expect(error.code).toBe(1);
    expect(error.stdout).toContain(`${RED}error [not_found]`);
  });

  it.skipIf(!hasScript)("NO_COLOR (any non-empty value) and --no-color turn colour off on a terminal", () => {
    const runs = [
      patOnTerminal(d.home, ["diff", "tournament", "tournament_out", "--unified"], { NO_COLOR: "1" }),
      patOnTerminal(d.home, ["diff", "tournament", "tournament_out", "--unified", "--no-color"]),
      patOnTerminal(d.home, ["show", "no_such_pattern"], { NO_COLOR: "true" }),
      patOnTerminal(d.home, ["--no-color", "ls"]),
    ];
    for (const run of runs) expect(run.stdout).not.toMatch(ANSI);
    expect(runs[0]!.stdout).toMatch(/^\+name: tournament_out$/m);
    expect(runs[2]!.stdout).toMatch(/^error \[not_found\]: /m);
    // An empty NO_COLOR is as good as unset (no-color.org).
    expect(patOnTerminal(d.home, ["diff", "tournament", "tournament_out", "--unified"], { NO_COLOR: "" }).stdout).toContain(GREEN);
  });

  it.skipIf(!hasScript)("pat send on a terminal prints text; -o json there prints JSON", () => {
    const text = patOnTerminal(d.home, ["send", "system:health"]);
    expect(text.stdout).toMatch(/^status: ok$/m);
    expect(JSON.parse(patOnTerminal(d.home, ["send", "system:health", "-o", "json"]).stdout)).toMatchObject({ status: "ok" });
  });

  it("the daemon still serves", async () => {
    expect(json(await pat(d.home, ["send", "system:health"]))).toMatchObject({ status: "ok", pid: d.pid });
  });
});
