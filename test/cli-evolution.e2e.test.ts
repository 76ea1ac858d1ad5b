/**
 * `pat fork / merge / diff / lineage` end to end (SPEC §5 over §3's
 * composition:fork/merge/diff/lineage): the compiled CLI run as a real
 * process against a real daemon (test/harness.ts) in a temporary home, its
 * effects checked through the daemon's own replies and with plain git in the
 * store at <home>/var/lib/compositions. Standard output is a pipe and the
 * tests ask for JSON (--json); the human rendering is checked on a
 * pseudo-terminal (script(1)).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { cleanup, makeHome, startDaemon, type Daemon } from "./harness.js";
import { hasScript, json, pat, patOnTerminal } from "./pat-process.js";
import { commitCount, git, lines } from "./store-git.js";

interface Change {
  op: string;
  path: string;
  from?: unknown;
  to?: unknown;
}

interface Conflict {
  path: string;
  base?: unknown;
  ours?: unknown;
  theirs?: unknown;
}

interface Pattern {
  name: string;
  version: string;
  composition: {
    version: string;
    description: string;
    metadata: { tags: string[]; selection_criteria: { participants: { min: number; max: number } } };
    variables: Record<string, { default?: unknown }>;
    orchestration_logic: { description: string; strategy: string };
    lineage?: { parent: string; fork_reason: string };
  };
}

afterAll(cleanup);

describe("pat fork / diff / merge / lineage against a real daemon", () => {
  let d: Daemon;
  let client: Client;
  let store: string;
  /** `pat ARGS --json`: these tests read the results as a script does (text is the default, piped or not). */
  const run = (...args: string[]) => pat(d.home, [...args, "--json"]);
  const get = (name: string) => client.request<Pattern>("composition:get", { name });

  beforeAll(async () => {
    d = await startDaemon();
    client = await d.client();
    store = join(d.home, "var", "lib", "compositions");
  });

  // ------------------------------------------------------------------ fork

  it("pat fork with --set of a nested path: one commit; the daemon shows the values, typed, and lineage.parent", async () => {
    const before = await commitCount(store);
    const result = await run(
      "fork",
      "tournament",
      "tournament_swiss",
      "--reason",
      "Swiss pairing for 5-10 participants",
      "--set",
      "metadata.selection_criteria.participants.max=10",
      "--set",
      'metadata.tags=["tournament","swiss"]',
      "--set=orchestration_logic.description=Swiss pairing: byes for odd fields, a=b stays text",
      "--set",
      'variables.pairing.default="42"',
    );
    expect(result.code, result.stderr).toBe(0);
    const forked = json<{ name: string; version: string; parent: string; commit: string }>(result);
    expect(forked).toMatchObject({ name: "tournament_swiss", version: "0.1.0", parent: "tournament@2.0.0" });
    expect(forked.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(await commitCount(store)).toBe(before + 1);
    expect((await git(store, "rev-parse", "tournament_swiss@0.1.0^{commit}")).trim()).toBe(forked.commit);

    const fork = await get("tournament_swiss");
    expect(fork.composition.metadata.selection_criteria.participants).toEqual({ min: 4, max: 10 }); // a number, its sibling kept
    expect(fork.composition.metadata.tags).toEqual(["tournament", "swiss"]);
    expect(fork.composition.orchestration_logic.description).toBe("Swiss pairing: byes for odd fields, a=b stays text"); // split at the first =
    expect(fork.composition.variables.pairing!.default).toBe("42"); // a JSON string stays a string
    expect(fork.composition.lineage).toMatchObject({ parent: "tournament@2.0.0", fork_reason: "Swiss pairing for 5-10 participants" });
    // The parent is untouched where it matters.
    expect((await get("tournament")).composition.metadata.selection_criteria.participants.max).toBe(64);
  });

  it("pat fork --version V: the fork starts at that version", async () => {
    const result = await run("fork", "tournament", "tournament_pinned", "--reason", "a pinned copy", "--version", "1.0.0");
    expect(result.code, result.stderr).toBe(0);
    expect(json(result)).toMatchObject({ name: "tournament_pinned", version: "1.0.0", parent: "tournament@2.0.0" });
    expect((await get("tournament_pinned")).version).toBe("1.0.0");
  });

  it("pat fork without --reason: usage error (exit 2) saying so; nothing committed", async () => {
    const before = await commitCount(store);
    const result = await run("fork", "tournament", "tournament_noreason", "--set", "metadata.tags=[]");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--reason/);
    expect(result.stderr).toContain("pat fork PARENT NAME"); // the usage line
    expect(result.stdout).toBe("");
    const bare = await run("fork", "tournament", "tournament_noreason", "--reason");
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/--reason needs a value/);
    expect(await commitCount(store)).toBe(before);
  });

  it("pat fork with a --set lacking = (or an empty path) or a missing name: usage errors (exit 2)", async () => {
    const before = await commitCount(store);
    for (const args of [
      ["fork", "tournament", "tournament_x", "--reason", "r", "--set", "metadata.tags"],
      ["fork", "tournament", "tournament_x", "--reason", "r", "--set", "=1"],
      ["fork", "tournament", "tournament_x", "--reason", "r", "--set"],
      ["fork", "tournament", "--reason", "r"],
      ["fork", "tournament", "tournament_x", "extra", "--reason", "r"],
      ["fork", "tournament", "tournament_x", "--reason", "r", "--bogus", "1"],
    ]) {
      const result = await run(...args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(/^pat: /);
    }
    const noEq = await run("fork", "tournament", "tournament_x", "--reason", "r", "--set", "metadata.tags");
    expect(noEq.stderr).toMatch(/--set needs path=value/);
    expect(await commitCount(store)).toBe(before);
  });

  it("pat fork to an existing name: exit 1 with conflict (stderr, and the error as JSON on stdout); nothing committed", async () => {
    const before = await commitCount(store);
    const result = await run("fork", "tournament", "tournament_swiss", "--reason", "again");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error \[conflict\]: .*tournament_swiss/);
    expect(json<{ error: { code: string } }>(result).error.code).toBe("conflict");
    expect(await commitCount(store)).toBe(before);
  });

  it.skipIf(!hasScript)("pat fork on a terminal: `forked P@V -> NAME@V (commit abc1234)` and the values set", async () => {
    const result = patOnTerminal(d.home, ["fork", "tournament", "tournament_knockout", "--reason", "single elimination", "--set", "variables.rounds.default=4"]);
    expect(result.code, result.stdout).toBe(0);
    const commit = (await git(store, "rev-parse", "--short=7", "tournament_knockout@0.1.0^{commit}")).trim();
    expect(result.stdout).toContain(`forked tournament@2.0.0 -> tournament_knockout@0.1.0 (commit ${commit})`);
    expect(result.stdout).toMatch(/^ {2}set variables\.rounds\.default = 4$/m);
  });

  // ------------------------------------------------------------------ diff

  it("pat diff --unified: the changed line, - then +; the flag may sit between the refs", async () => {
    for (const args of [
      ["diff", "tournament", "tournament_swiss", "--unified"],
      ["diff", "tournament", "--unified", "tournament_swiss"],
    ]) {
      const result = await run(...args);
      expect(result.code, result.stderr).toBe(0);
      const { left, right, unified } = json<{ left: string; right: string; unified: string }>(result);
      // The refs as asked: current tournament is not tournament@2.0.0 (its forks list grew).
      expect(left).toBe("tournament");
      expect(right).toBe("tournament_swiss");
      expect(unified).toMatch(/^-.*participants:.*max: 64/m);
      expect(unified).toMatch(/^\+.*participants:.*max: 10/m);
    }
  });

  it("pat diff (structural): one change per field, typed", async () => {
    const result = await run("diff", "tournament@2.0.0", "tournament_swiss");
    expect(result.code, result.stderr).toBe(0);
    const { changes } = json<{ changes: Change[] }>(result);
    expect(changes).toContainEqual({ op: "replace", path: "metadata.selection_criteria.participants.max", from: 64, to: 10 });
    expect(changes).toContainEqual(expect.objectContaining({ op: "add", path: "lineage" }));
  });

  it.skipIf(!hasScript)("pat diff on a terminal: the unified text as it is; or one `~ path  from -> to` line per change", () => {
    // The layout, without colour (the colours are cli-output.e2e.test.ts's).
    const unified = patOnTerminal(d.home, ["diff", "tournament@2.0.0", "tournament_swiss", "--unified"], { NO_COLOR: "1" });
    expect(unified.code, unified.stdout).toBe(0);
    expect(unified.stdout).toMatch(/^--- a\/orchestrations\/tournament\.yaml\t\(tournament@2\.0\.0\)$/m);
    expect(unified.stdout).toMatch(/^\+\+\+ b\/orchestrations\/tournament_swiss\.yaml\t\(tournament_swiss@0\.1\.0, current file\)$/m);
    expect(unified.stdout).toMatch(/^\+ +participants: \{min: 4, max: 10\}$/m);
    expect(() => JSON.parse(unified.stdout) as unknown).toThrow();
    const changes = patOnTerminal(d.home, ["diff", "tournament@2.0.0", "tournament_swiss"], { NO_COLOR: "1" });
    expect(changes.code, changes.stdout).toBe(0);
    expect(changes.stdout).toMatch(/^tournament@2\.0\.0 -> tournament_swiss: \d+ changes$/m);
    expect(changes.stdout).toMatch(/^ {2}~ metadata\.selection_criteria\.participants\.max {2}64 -> 10$/m);
    expect(changes.stdout).toMatch(/^ {2}\+ lineage$/m);
    const same = patOnTerminal(d.home, ["diff", "tournament", "tournament"]);
    expect(same.stdout).toMatch(/no differences between tournament and tournament/);
  });

  it("pat diff with one ref: usage error; with an unknown ref: exit 1, not_found", async () => {
    expect((await run("diff", "tournament")).code).toBe(2);
    const missing = await run("diff", "tournament", "no_such_pattern");
    expect(missing.code).toBe(1);
    expect(json<{ error: { code: string } }>(missing).error.code).toBe("not_found");
  });

  // ------------------------------------------------------------------ merge

  it("pat merge --dry-run: shows the change and the version it would make, writes nothing", async () => {
    const before = await commitCount(store);
    const headBefore = (await git(store, "rev-parse", "HEAD")).trim();
    // --dry-run before the fork's name must not swallow it.
    for (const args of [
      ["merge", "tournament_swiss", "--dry-run"],
      ["merge", "--dry-run", "tournament_swiss"],
    ]) {
      const result = await run(...args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
      const dry = json<{ dry_run: boolean; clean: boolean; name: string; version: string; from: string; changes: Change[]; conflicts: Conflict[] }>(result);
      expect(dry).toMatchObject({ dry_run: true, clean: true, name: "tournament", version: "2.1.0", from: "tournament_swiss@0.1.0", conflicts: [] });
      expect(dry.changes).toContainEqual({ op: "replace", path: "metadata.selection_criteria.participants.max", from: 64, to: 10 });
    }
    expect(await commitCount(store)).toBe(before);
    expect((await git(store, "rev-parse", "HEAD")).trim()).toBe(headBefore);
    expect(await git(store, "status", "--porcelain")).toBe("");
    expect(lines(await git(store, "tag", "-l", "tournament@2.1.0"))).toEqual([]);
    const tournament = await get("tournament");
    expect(tournament.composition.metadata.selection_criteria.participants.max).toBe(64);
  });

  it.skipIf(!hasScript)("pat merge --dry-run on a terminal: the would-be version, one line per change, nothing written", async () => {
    const before = await commitCount(store);
    const result = patOnTerminal(d.home, ["merge", "tournament_swiss", "--dry-run"]);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/^dry run: merging tournament_swiss@0\.1\.0 into tournament would make tournament@2\.1\.0 .*nothing was written$/m);
    expect(result.stdout).toMatch(/^ {2}~ metadata\.selection_criteria\.participants\.max {2}64 -> 10$/m);
    expect(result.stdout).toMatch(/^ {2}~ metadata\.tags/m);
    expect(await commitCount(store)).toBe(before);
  });

  it("pat merge --message M: one merge commit, the new version; pat history shows the merge", async () => {
    const before = await commitCount(store);
    const result = await run("merge", "tournament_swiss", "--message", "Adopt Swiss pairing");
    expect(result.code, result.stderr).toBe(0);
    const merged = json<{ merged: boolean; name: string; version: string; commit: string; changes: Change[] }>(result);
    expect(merged).toMatchObject({ merged: true, name: "tournament", version: "2.1.0" });
    expect(merged.changes.map((change) => change.path)).toContain("metadata.selection_criteria.participants.max");
    expect(await commitCount(store)).toBe(before + 1);
    expect((await git(store, "log", "-1", "--format=%H")).trim()).toBe(merged.commit);
    expect((await get("tournament")).composition.metadata.selection_criteria.participants.max).toBe(10);

    const history = await run("history", "tournament");
    expect(history.code, history.stderr).toBe(0);
    const { versions } = json<{ versions: { version: string; commit: string; op: string; message: string }[] }>(history);
    expect(versions[0]).toMatchObject({ version: "2.1.0", commit: merged.commit, op: "merge" });
    expect(versions[0]!.message).toContain("Adopt Swiss pairing");

    // Merging again brings nothing, and says so without a commit.
    const again = await run("merge", "tournament_swiss");
    expect(again.code, again.stderr).toBe(0);
    expect(json(again)).toMatchObject({ merged: true, unchanged: true });
    expect(await commitCount(store)).toBe(before + 1);
  });

  it.skipIf(!hasScript)("pat history and a no-op merge on a terminal", () => {
    // Wide enough for the whole message (a table fits the terminal: 80 columns when it does not say); the header plain.
    const history = patOnTerminal(d.home, ["history", "tournament"], { COLUMNS: "200", NO_COLOR: "1" });
    expect(history.stdout.split("\n")[0]).toMatch(/^COMMIT +DATE +VERSION +OP +AUTHOR +MESSAGE$/);
    expect(history.stdout.split("\n")[1]).toMatch(/^[0-9a-f]{10} .* 2\.1\.0 +merge +.*Adopt Swiss pairing$/);
    const again = patOnTerminal(d.home, ["merge", "tournament_swiss"]);
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toContain("nothing to merge: tournament@2.1.0 already has every change of tournament_swiss@0.1.0");
  });

  it("a conflicting merge: exit 1, each conflict's path on stderr with base/ours/theirs and a hint; nothing written; --strategy theirs then merges", async () => {
    // Both sides change variables.rounds.default and the same line of the strategy text.
    const forked = await run("fork", "tournament", "tournament_fast", "--reason", "fewer rounds", "--set", "variables.rounds.default=3");
    expect(forked.code, forked.stderr).toBe(0);
    const fast = await get("tournament_fast");
    await client.request("composition:save", {
      composition: { ...fast.composition, orchestration_logic: { ...fast.composition.orchestration_logic, strategy: fast.composition.orchestration_logic.strategy.replace("IF n < 2:", "IF n <= 1:") } },
    });
    const parent = await get("tournament");
    const strategy = parent.composition.orchestration_logic.strategy;
    expect(strategy).toContain("IF n < 2:");
    await client.request("composition:save", {
      composition: {
        ...parent.composition,
        variables: { ...parent.composition.variables, rounds: { ...parent.composition.variables.rounds, default: 7 } },
        orchestration_logic: { ...parent.composition.orchestration_logic, strategy: strategy.replace("IF n < 2:", "IF n < 3:") },
      },
    });

    const before = await commitCount(store);
    const result = await run("merge", "tournament_fast");
    expect(result.code).toBe(1);
    const { error } = json<{ error: { code: string; details: { conflicts: Conflict[] } } }>(result);
    expect(error.code).toBe("merge_conflict");
    expect(error.details.conflicts.map((conflict) => conflict.path).sort()).toEqual(["orchestration_logic.strategy", "variables.rounds.default"]);
    expect(result.stderr).toMatch(/^error \[merge_conflict\]: /);
    expect(result.stderr).toMatch(/^2 conflicts \(base tournament@\S+, ours tournament@\S+, theirs tournament_fast@\S+\):$/m);
    expect(result.stderr).toMatch(/^ {2}variables\.rounds\.default\n {4}base: +\d+\n {4}ours: +7\n {4}theirs: +3$/m);
    // Multi-line text: indented under its side, cut to the lines that differ.
    expect(result.stderr).toMatch(/^ {2}orchestration_logic\.strategy\n {4}base:\n/m);
    expect(result.stderr).toMatch(/^ {6}.*IF n < 3: RETURN/m);
    expect(result.stderr).toMatch(/^ {6}.*IF n <= 1: RETURN/m);
    expect(result.stderr).toMatch(/^ {6}… \d+ lines in common$/m);
    expect(result.stderr).not.toContain("FINISH"); // the far end of the strategy is elided
    expect(result.stderr).toMatch(/--strategy ours.*--strategy theirs/);
    expect(result.stderr).toMatch(/pat merge tournament_fast --set \S+=VALUE/);
    expect(result.stderr).toContain("--dry-run");
    expect(await commitCount(store)).toBe(before);

    // A dry run lists the same conflicts and still writes nothing; it exits 1, as the merge would fail.
    const dry = await run("merge", "tournament_fast", "--dry-run");
    expect(dry.code, dry.stderr).toBe(1);
    expect(json<{ clean: boolean; conflicts: Conflict[] }>(dry)).toMatchObject({ clean: false, conflicts: expect.arrayContaining([expect.objectContaining({ path: "variables.rounds.default" })]) });
    expect(await commitCount(store)).toBe(before);

    const theirs = await run("merge", "tournament_fast", "--strategy", "theirs");
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(json(theirs)).toMatchObject({ merged: true, name: "tournament" });
    expect(await commitCount(store)).toBe(before + 1);
    const now = await get("tournament");
    expect(now.composition.variables.rounds!.default).toBe(3);
    expect(now.composition.orchestration_logic.strategy).toContain("IF n <= 1:");
  });

  it("pat merge --set settles conflicts: values typed like pat fork --set; a path that is not a conflict is refused; one merge commit", async () => {
    await client.request("composition:save", {
      composition: {
        name: "cli_resolve",
        type: "orchestration",
        version: "1.0.0",
        description: "settled from the command line",
        variables: { rounds: { default: 5 } },
        metadata: { owner: "team a", tags: ["resolve"] },
        orchestration_logic: { description: "rounds", strategy: "1. pair\n2. judge\n3. rank\n" },
      },
    });
    expect((await run("fork", "cli_resolve", "cli_resolve_f", "--reason", "rivals", "--set", "variables.rounds.default=3", "--set", "metadata.owner=team b")).code).toBe(0);
    const parent = (await get("cli_resolve")).composition;
    await client.request("composition:save", { composition: { ...parent, variables: { rounds: { default: 7 } }, metadata: { ...parent.metadata, owner: "team c" } } });
    const fork = (await get("cli_resolve_f")).composition;
    await client.request("composition:save", { composition: { ...fork, orchestration_logic: { ...fork.orchestration_logic, strategy: "1. pair\n2. judge twice\n3. rank\n" } } });
    const before = await commitCount(store);

    // --dry-run with conflicts: printed (JSON here, --json), exit 1.
    const dry = await run("merge", "cli_resolve_f", "--dry-run");
    expect(dry.code, dry.stderr).toBe(1);
    expect(json<{ conflicts: Conflict[] }>(dry).conflicts.map((conflict) => conflict.path)).toEqual(["variables.rounds.default", "metadata.owner"]);
    // Settling one of two is still a conflict; dry-run with both settled is clean, exit 0.
    const half = await run("merge", "cli_resolve_f", "--set", "variables.rounds.default=4");
    expect(half.code).toBe(1);
    expect(json<{ error: { code: string; details: { conflicts: Conflict[] } } }>(half).error.details.conflicts.map((conflict) => conflict.path)).toEqual(["metadata.owner"]);
    const wrong = await run("merge", "cli_resolve_f", "--set", "variables.rounds=4");
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error \[invalid_params\]: resolve names variables\.rounds, which is not a conflict of this merge; the conflicts are variables\.rounds\.default, metadata\.owner/);
    const cleanDry = await run("merge", "cli_resolve_f", "--dry-run", "--set", "variables.rounds.default=4", "--set", "metadata.owner=team b and c");
    expect(cleanDry.code, cleanDry.stderr).toBe(0);
    expect(await commitCount(store)).toBe(before);

    const merged = await run("merge", "cli_resolve_f", "--set", "variables.rounds.default=4", "--set", "metadata.owner=team b and c");
    expect(merged.code, merged.stderr).toBe(0);
    expect(json(merged)).toMatchObject({ merged: true, name: "cli_resolve", resolved: ["variables.rounds.default", "metadata.owner"] });
    expect(await commitCount(store)).toBe(before + 1);
    const now = (await get("cli_resolve")).composition;
    expect(now.variables.rounds!.default).toBe(4); // JSON: a number
    expect((now.metadata as unknown as { owner: string }).owner).toBe("team b and c"); // not JSON: text
    expect(now.orchestration_logic.strategy).toBe("1. pair\n2. judge twice\n3. rank\n"); // the clean change came along
    expect(now.description).toBe("settled from the command line");
  });

  it("pat merge usage errors: no fork, a bad --strategy, a valued --dry-run (exit 2)", async () => {
    for (const args of [["merge"], ["merge", "tournament_swiss", "--strategy", "best"], ["merge", "tournament_swiss", "--dry-run=yes"], ["merge", "a", "b"]]) {
      const result = await run(...args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain("pat merge FORK");
    }
    const notFork = await run("merge", "judge");
    expect(notFork.code).toBe(1);
    expect(notFork.stderr).toMatch(/error \[\w+\]: .*judge/);
  });

  // ------------------------------------------------------------------ lineage

  it("pat lineage --json: the JSON graph by default; --format mermaid / dot / tree give the daemon's text", async () => {
    const graph = await run("lineage", "tournament_swiss");
    expect(graph.code, graph.stderr).toBe(0);
    expect(json(graph)).toMatchObject({ pattern: "tournament_swiss", root: "tournament", ancestors: ["tournament"] });

    const mermaid = json<{ format: string; text: string }>(await run("lineage", "tournament_swiss", "--format", "mermaid"));
    expect(mermaid.format).toBe("mermaid");
    expect(mermaid.text).toMatch(/^graph /);
    expect(mermaid.text).toMatch(/-->/);

    const dot = json<{ text: string }>(await run("lineage", "tournament_swiss", "--format", "dot"));
    expect(dot.text).toMatch(/^digraph /);
    expect(dot.text).toContain('"tournament" -> "tournament_swiss"');

    const down = json<{ descendants: string[] }>(await run("lineage", "tournament", "--direction", "down"));
    expect(down.descendants).toEqual(expect.arrayContaining(["tournament_swiss", "tournament_fast", "tournament_pinned"]));
  });

  it.skipIf(!hasScript)("pat lineage on a terminal: a tree by default; mermaid and dot as plain text ready to paste", () => {
    const tree = patOnTerminal(d.home, ["lineage", "tournament_swiss"]);
    expect(tree.code, tree.stdout).toBe(0);
    expect(tree.stdout).toMatch(/^tournament@\S+\n└── tournament_swiss@0\.1\.0 \*$/m);
    const down = patOnTerminal(d.home, ["lineage", "tournament", "--direction", "down", "--format", "tree"]);
    expect(down.stdout).toMatch(/^[├└]── tournament_fast@/m);
    const mermaid = patOnTerminal(d.home, ["lineage", "tournament_swiss", "--format", "mermaid"]);
    expect(mermaid.stdout).toMatch(/^graph TD$/m);
    expect(() => JSON.parse(mermaid.stdout) as unknown).toThrow();
    const dot = patOnTerminal(d.home, ["lineage", "tournament_swiss", "--format", "dot"]);
    expect(dot.stdout).toMatch(/^digraph lineage \{$/m);
  });

  it("pat lineage: a bad --format or --direction is a usage error; an unknown pattern is not_found", async () => {
    expect((await run("lineage", "tournament", "--format", "svg")).code).toBe(2);
    expect((await run("lineage", "tournament", "--direction", "sideways")).code).toBe(2);
    expect((await run("lineage")).code).toBe(2);
    const missing = await run("lineage", "no_such_pattern");
    expect(missing.code).toBe(1);
    expect(json<{ error: { code: string } }>(missing).error.code).toBe("not_found");
  });

  // ------------------------------------------------------------------ --json, help, no daemon

  it.skipIf(!hasScript)("--json on a terminal: fork, diff, merge and lineage print JSON that parses", () => {
    const fork = patOnTerminal(d.home, ["fork", "tournament", "tournament_json", "--reason", "json output", "--json"]);
    expect(fork.code, fork.stdout).toBe(0);
    expect(JSON.parse(fork.stdout)).toMatchObject({ name: "tournament_json", version: "0.1.0" });
    const diff = patOnTerminal(d.home, ["diff", "tournament", "tournament_json", "--unified", "--json"]);
    expect(JSON.parse(diff.stdout)).toHaveProperty("unified");
    const merge = patOnTerminal(d.home, ["merge", "tournament_json", "--dry-run", "--json"]);
    expect(JSON.parse(merge.stdout)).toMatchObject({ dry_run: true });
    const lineage = patOnTerminal(d.home, ["--json", "lineage", "tournament_json", "--format", "tree"]);
    expect(JSON.parse(lineage.stdout)).toMatchObject({ pattern: "tournament_json", format: "tree", text: expect.stringContaining("tournament_json@0.1.0") });
  });

  it("pat help lists fork, merge, diff and lineage; pat fork --help prints its usage", async () => {
    const help = await run("help");
    expect(help.code).toBe(0);
    for (const usage of ["pat fork PARENT NAME --reason TEXT", "pat merge FORK", "pat diff LEFT RIGHT", "pat lineage NAME"]) expect(help.stdout).toContain(usage);
    const fork = await run("fork", "--help");
    expect(fork.code).toBe(0);
    expect(fork.stdout).toContain("--set path=value");
  });

  it("with no daemon: exit 3 and how to start it", async () => {
    const empty = await makeHome();
    const result = await pat(empty, ["fork", "tournament", "t_x", "--reason", "r"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("pat start");
  });
});
