import { describe, expect, it } from "vitest";
import { COMMANDS } from "./commands.js";
import { candidates, DIR_DIRECTIVE, FILE_DIRECTIVE, optionsOf, planCompletion, POSITIONAL_SOURCES, type DaemonLists } from "./completion.js";

/** What a daemon with the bundled store would answer (plain data, as system:discover / composition:list / system:help give it). */
const DAEMON: DaemonLists = {
  events: ["system:health", "system:help", "composition:fork", "composition:list", "monitor:subscribe"],
  patterns: ["tournament", "tournament_swiss", "debate", "map_reduce"],
  params: {
    type: "object",
    properties: {
      strategy: { type: "string", enum: ["auto", "ours", "theirs"] },
      dry_run: { type: "boolean" },
      source: { type: "string" },
    },
  },
};

const complete = (words: string[], lists: DaemonLists = DAEMON) => candidates(planCompletion(words, COMMANDS), Object.keys(COMMANDS), lists);

describe("completion: the words typed after pat → candidates for the last one", () => {
  it.each<[string[], string[]]>([
    [["fo"], ["fork"]],
    [["s"], ["start", "stop", "status", "send", "show", "set", "select", "sync"]],
    [[""], Object.keys(COMMANDS)],
    [["--ho"], ["--home"]],
    [["show", "tour"], ["tournament", "tournament_swiss"]],
    [["show", ""], ["tournament", "tournament_swiss", "debate", "map_reduce"]],
    [["history", "deb"], ["debate"]],
    [["fork", "tournament", ""], []], // the new name: nothing to offer
    [["diff", "tournament", "tournament_s"], ["tournament_swiss"]],
    [["diff", "a", "b", ""], []],
    [["merge", "--into", "de"], ["debate"]],
    [["merge", "--dry-run", "tour"], ["tournament", "tournament_swiss"]], // an on/off option takes no value
    [["merge", "--strategy", ""], ["auto", "ours", "theirs"]],
    [["lineage", "x", "--format", "m"], ["mermaid"]],
    [["start", "--log-level", "d"], ["debug"]],
    [["send", "composition:"], ["composition:fork", "composition:list"]],
    [["send", "sys"], ["system:health", "system:help"]],
    [["call", "monitor:"], ["monitor:subscribe"]],
    [["help", "s"], ["start", "stop", "status", "send", "show", "set", "select", "sync", "system:health", "system:help"]],
    [["discover", ""], ["system", "composition", "monitor"]],
    [["watch", "composition:fork", "mon"], ["monitor:subscribe"]],
    [["completion", ""], ["bash", "zsh", "fish"]],
    [["--home", "/tmp/h", "show", "deb"], ["debate"]],
    [["--home=/tmp/h", "fo"], ["fork"]],
    [["--json", "fo"], ["fork"]],
    [["nosuch", ""], []],
    [["set", "tournament", "variables.x=1", ""], []],
  ])("pat %j", (words, expected) => {
    expect(complete(words)).toEqual(expected);
  });

  it.each<[string[], string[]]>([
    [["merge", "--d"], ["--dry-run"]],
    [["diff", "a", "b", "--u"], ["--unified"]],
    [["find", "--o"], ["--offset", "--output"]], // --offset from the summary (with --filter, --rule); --output is global
    [["watch", "--r"], ["--retry"]],
    [["fork", "a", "b", "--"], ["--reason", "--set", "--replace-maps", "--version", "--home", "--socket", "--agent-id", "--output", "--json", "--no-color", "--help"]],
    [["send", "composition:merge", "--s"], ["--strategy", "--source", "--socket"]],
    [["send", "--"], ["--from-file", "--home", "--socket", "--agent-id", "--output", "--json", "--no-color", "--help"]],
    [["send", "composition:merge", "--strategy", "o"], ["ours"]],
    [["send", "composition:merge", "--dry_run", ""], ["true", "false"]],
    [["send", "composition:merge", "--source", ""], []],
  ])("options: pat %j", (words, expected) => {
    expect(complete(words)).toEqual(expected);
  });

  it.each<[string[], string]>([
    [["--home", ""], DIR_DIRECTIVE],
    [["start", "--store", "va"], DIR_DIRECTIVE],
    [["--socket", "x"], FILE_DIRECTIVE],
    [["send", "system:health", "--from-file", ""], FILE_DIRECTIVE],
    [["handle", "task:x", "--", "./sum"], FILE_DIRECTIVE],
  ])("a path: pat %j hands over to the shell's file completion", (words, directive) => {
    expect(complete(words)).toEqual([directive]);
  });

  it("without a daemon answering, names the daemon knows complete to nothing (commands and options still do)", () => {
    expect(complete(["show", "tour"], {})).toEqual([]);
    expect(complete(["send", "sys"], {})).toEqual([]);
    expect(complete(["send", "composition:merge", "--s"], {})).toEqual(["--socket"]);
    expect(complete(["fo"], {})).toEqual(["fork"]);
  });

  it("reads --home and --socket from the words, so the right daemon is asked", () => {
    expect(planCompletion(["--home", "/h", "--socket=/s", "show", ""], COMMANDS)).toMatchObject({ home: "/h", socket: "/s", current: "" });
    // An option followed by another option has no value (as splitArgv reads it).
    expect(planCompletion(["--home", "--json", "show", ""], COMMANDS).home).toBeUndefined();
  });

  it("knows the positional arguments only of real commands, and each command's options from its usage line", () => {
    expect(Object.keys(POSITIONAL_SOURCES).filter((verb) => !Object.hasOwn(COMMANDS, verb))).toEqual([]);
    expect(Object.fromEntries(optionsOf(COMMANDS.merge!))).toEqual({
      into: { kind: "patterns" },
      set: null,
      strategy: { kind: "words", words: ["auto", "ours", "theirs"] },
      "dry-run": "flag",
      message: null,
    });
  });
});
