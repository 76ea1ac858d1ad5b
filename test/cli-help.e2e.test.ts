/**
 * Help like git's (issue 16, item 2), with the compiled `pat` against a
 * real daemon: `pat help COMMAND` and `pat COMMAND --help` explain every
 * option and give an example; `pat help EVENT` still describes an event;
 * something that is neither gets one line suggesting both kinds;
 * `pat --version` / `pat version`; a mistyped command or option is one line
 * with the suggestion, not the whole usage.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, makeHome, ROOT, startDaemon, type Daemon } from "./harness.js";
import { hasScript, pat, patOnTerminal } from "./pat-process.js";

afterAll(cleanup);

const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

describe("pat help COMMAND / pat COMMAND --help (no daemon needed)", () => {
  let home: string;
  beforeAll(async () => {
    home = await makeHome();
  });

  it("prints the usage, every option explained, and an example, both ways alike; exit 0", async () => {
    // Before: pat help fork asked the daemon for an event named fork (exit 3 without one); pat fork --help printed no option explained.
    const byHelp = await pat(home, ["help", "fork"]);
    expect(byHelp.code, byHelp.stderr).toBe(0);
    const byFlag = await pat(home, ["fork", "--help"]);
    expect(byFlag.stdout).toBe(byHelp.stdout);
    const text = byHelp.stdout;
    expect(text).toMatch(/^usage: pat fork PARENT NAME --reason TEXT/);
    expect(text).toMatch(/^ {2}--reason TEXT +why you fork \(required; one line is enough\)/m);
    expect(text).toMatch(/^ {2}--set path=value +change a dotted path in the fork/m);
    expect(text).toMatch(/^ {2}--replace-maps +a map given to --set replaces/m);
    expect(text).toMatch(/^example:\n {2}pat fork tournament tournament_swiss --reason /m);
  });
});

describe("pat help EVENT, and what is neither", () => {
  let d: Daemon;
  beforeAll(async () => {
    d = await startDaemon();
  });

  it("an event is still described by the daemon (params, reply, example)", async () => {
    const run = await pat(d.home, ["help", "composition:select", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const help = JSON.parse(run.stdout) as { event: string; result: { properties: Record<string, unknown> } };
    expect(help.event).toBe("composition:select");
    expect(Object.keys(help.result.properties)).toContain("candidates");
  });

  it("neither a command nor an event: exit 2, one line suggesting both kinds", async () => {
    const typo = await pat(d.home, ["help", "fokr"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe("pat: no command or event fokr; did you mean fork (a command)?\n");
    const event = await pat(d.home, ["help", "composition:fokr"]);
    expect(event.code).toBe(2);
    expect(event.stderr.trim().split("\n")).toHaveLength(1);
    expect(event.stderr).toContain("no command or event composition:fokr; did you mean composition:fork (an event)");
    const nothing = await pat(d.home, ["help", "zzzzzz"]);
    expect(nothing.stderr).toBe("pat: no command or event zzzzzz (pat help lists the commands, pat discover the events)\n");
    expect((await pat(d.home, ["send", "system:health"])).code, "the daemon still serves").toBe(0);
  });
});

describe("pat --version / pat version", () => {
  it("print the package's version, exit 0, without a daemon", async () => {
    const home = await makeHome();
    for (const args of [["--version"], ["version"]]) {
      const run = await pat(home, args);
      expect(run.code, args.join(" ")).toBe(0);
      expect(run.stdout).toBe(`pat version ${VERSION}\n`);
    }
    // After a verb, --version is the verb's own option: pat fork --version V.
    expect((await pat(home, ["help", "fork"])).stdout).toContain("--version V");
  });
});

describe("a mistyped command or option: one line with the suggestion, not the whole usage", () => {
  let d: Daemon;
  beforeAll(async () => {
    d = await startDaemon();
  });

  it("pat fokr", async () => {
    const run = await pat(d.home, ["fokr"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("pat: unknown command fokr; did you mean fork?\n");
    expect(run.stdout).toBe("");
  });

  it("an option of a verb (pat fork --reasn, pat merge --dry-rn, pat handle --gruop)", async () => {
    for (const [args, line] of [
      [["fork", "tournament", "t_typo", "--reasn", "x"], "pat: unknown option --reasn; did you mean --reason?\n"],
      [["merge", "tournament_swiss", "--dry-rn"], "pat: unknown option --dry-rn; did you mean --dry-run?\n"],
      [["handle", "x:y", "--gruop", "g", "--", "true"], "pat: unknown option --gruop; did you mean --group?\n"],
      [["ls", "--typ", "profile"], "pat: unknown option --typ; did you mean --type?\n"],
    ] as const) {
      const run = await pat(d.home, args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr, args.join(" ")).toBe(line);
    }
  });

  it("a key of pat send the event's params do not have: refused before sending, with the closest param", async () => {
    // Before: sent as it was, for the daemon to answer invalid_params (exit 1) with no suggestion.
    const run = await pat(d.home, ["send", "composition:get", "--nmae", "tournament"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("pat: unknown option --nmae; did you mean --name?\n");
    const right = await pat(d.home, ["send", "composition:get", "--name", "tournament"]);
    expect(right.code, right.stderr).toBe(0);
  });
});

describe.skipIf(!hasScript)("on a terminal", () => {
  it("pat help fork prints the same page", async () => {
    const home = await makeHome();
    const run = patOnTerminal(home, ["help", "fork"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ {2}--reason TEXT +why you fork/m);
  });
});
