/**
 * Shell completion end to end (issue 16, item 3): `pat completion bash`
 * sourced in a real bash, its completion function run the way readline
 * runs it (COMP_WORDS / COMP_CWORD, `complete -p`), with the compiled
 * `pat` on PATH and a real daemon in a temporary home answering the names
 * it knows (events, patterns). zsh and fish are checked too where they are
 * installed (they are not on every machine: those tests then skip).
 */
import { spawnSync } from "node:child_process";
import { symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, makeHome, startDaemon, type Daemon } from "./harness.js";
import { PAT, pat } from "./pat-process.js";

afterAll(cleanup);

const has = (shell: string) => spawnSync(shell, ["--version"], { encoding: "utf8" }).status === 0;

/** A directory holding `pat`, a link to the compiled one, as `npm link` puts it on PATH. */
let binDir: string;

/** The environment of a user with pat on PATH who set nothing patternd-specific. */
function shellEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${binDir}:${dirname(process.execPath)}:${process.env.PATH ?? ""}` };
  for (const key of Object.keys(env)) if (key.startsWith("PATTERND_")) delete env[key];
  return env;
}

/** `words` as readline hands them to the completion function (bash splits at : and =, so e.g. ["pat", "send", "composition", ":", "fo"]); returns COMPREPLY. */
function bashComplete(cwd: string, words: readonly string[]): { replies: string[]; stderr: string; status: number | null } {
  const quoted = words.map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(" ");
  const script = `source <(pat completion bash) || exit 9
COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}
_pat_complete
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync("bash", ["--norc", "--noprofile", "-c", script], { cwd, env: shellEnv(), encoding: "utf8", timeout: 20_000 });
  return { replies: result.stdout.split("\n").filter((line) => line !== ""), stderr: result.stderr, status: result.status };
}

describe("pat completion: bash, zsh and fish complete commands, options, event and pattern names", () => {
  let d: Daemon;

  beforeAll(async () => {
    d = await startDaemon();
    binDir = await makeHome();
    await symlink(PAT, join(binDir, "pat"));
  });

  it("pat completion bash prints a script that registers _pat_complete for pat (complete -p)", async () => {
    // Before: pat had no completion command (exit 2, unknown command).
    const run = await pat(d.home, ["completion", "bash"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("_pat_complete()");
    const registered = spawnSync("bash", ["--norc", "--noprofile", "-c", "source <(pat completion bash) && complete -p pat patternd"], {
      env: shellEnv(),
      encoding: "utf8",
    });
    expect(registered.stdout).toBe("complete -F _pat_complete pat\ncomplete -F _pat_complete patternd\n");
  });

  it("bash: pat fo<TAB> → fork; pat show tour<TAB> → tournament (the daemon's patterns)", () => {
    // The home is the one pat finds from the current directory, as at a shell.
    expect(bashComplete(d.home, ["pat", "fo"]).replies).toEqual(["fork"]);
    expect(bashComplete(d.home, ["pat", "show", "tour"]).replies).toEqual(["tournament"]);
    expect(bashComplete(d.home, ["pat", "diff", "tournament", "debate_w"]).replies).toEqual(["debate_with_judge"]);
    expect(bashComplete(d.home, ["pat", "--home", d.home, "lineage", "tour"]).replies).toEqual(["tournament"]);
  });

  it("bash: event names across the colon bash splits at, options per command, option values, an event's parameters", () => {
    // readline completes only the text after the colon: the replies are what follows "composition:".
    expect(bashComplete(d.home, ["pat", "send", "composition", ":", "fo"]).replies).toEqual(["fork"]);
    expect(bashComplete(d.home, ["pat", "help", "system", ":", "he"]).replies).toEqual(["health", "hello", "help"]);
    expect(bashComplete(d.home, ["pat", "merge", "--d"]).replies).toEqual(["--dry-run"]);
    expect(bashComplete(d.home, ["pat", "merge", "x", "--strategy", ""]).replies).toEqual(["auto", "ours", "theirs"]);
    expect(bashComplete(d.home, ["pat", "watch", "--re"]).replies).toEqual(["--retry"]);
    expect(bashComplete(d.home, ["pat", "send", "composition", ":", "lineage", "--dir"]).replies).toEqual(["--direction"]);
    expect(bashComplete(d.home, ["pat", "send", "composition", ":", "lineage", "--direction", "d"]).replies).toEqual(["down"]);
  });

  it("bash: a path option completes file names (the shell's own completion)", () => {
    const replies = bashComplete(d.home, ["pat", "start", "--store", "va"]).replies;
    expect(replies).toEqual(["var"]);
  });

  it("with no daemon running: commands still complete, daemon names complete to nothing, silently and at once", async () => {
    const empty = await makeHome();
    const started = Date.now();
    const show = bashComplete(empty, ["pat", "show", "tour"]);
    expect(show).toEqual({ replies: [], stderr: "", status: 0 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(bashComplete(empty, ["pat", "send", "sys"]).replies).toEqual([]);
    expect(bashComplete(empty, ["pat", "fo"]).replies).toEqual(["fork"]);
    // The daemon still serves those that ask it.
    expect(bashComplete(d.home, ["pat", "show", "tour"]).replies).toEqual(["tournament"]);
  });

  it("pat completion with no shell or an unknown one: usage error naming the three (exit 2)", async () => {
    for (const args of [["completion"], ["completion", "tcsh"]]) {
      const run = await pat(d.home, args);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain("pat completion needs one shell: bash, zsh or fish, e.g. source <(pat completion bash)");
    }
  });

  it.skipIf(!has("zsh"))("zsh: the script parses (zsh -n)", async () => {
    const script = (await pat(d.home, ["completion", "zsh"])).stdout;
    expect(script).toContain("compdef _pat pat patternd");
    const parsed = spawnSync("zsh", ["-n"], { input: script, encoding: "utf8" });
    expect(parsed.stderr).toBe("");
    expect(parsed.status).toBe(0);
  });

  it.skipIf(!has("fish"))("fish: the script parses, and completes pat fo → fork and pat show tour → tournament (complete -C)", async () => {
    const script = (await pat(d.home, ["completion", "fish"])).stdout;
    // fish -n reports a parse error on stderr (its exit status stays 0).
    const parsed = spawnSync("fish", ["--no-config", "--no-execute", "-c", script], { encoding: "utf8" });
    expect(parsed.stderr).toBe("");
    expect(parsed.status).toBe(0);
    const complete = (line: string) =>
      spawnSync("fish", ["--no-config", "-c", `pat completion fish | source; complete -C '${line}'`], { cwd: d.home, env: shellEnv(), encoding: "utf8" }).stdout;
    expect(complete("pat fo")).toBe("fork\n");
    expect(complete("pat show tour")).toBe("tournament\n");
    expect(complete("pat send composition:fo")).toBe("composition:fork\n");
  });
});
