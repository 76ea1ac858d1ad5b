/** pat help VERB: every verb explains each option its usage line shows, and gives an example. */
import { describe, expect, it } from "vitest";
import { commandHelp } from "./command-help.js";
import { COMMANDS } from "./commands.js";

describe("commandHelp", () => {
  it.each(Object.entries(COMMANDS))("pat help %s: usage, each option of its usage line explained, examples", (name, command) => {
    const text = commandHelp(name, command);
    expect(text.startsWith(`usage: ${command.usage}\n`)).toBe(true);
    expect(text).toMatch(/^examples?:$/m);
    for (const option of command.usage.match(/--[a-z][a-z-]*/g) ?? []) expect(text, option).toMatch(new RegExp(`^ {2}${option}\\b`, "m"));
  });

  it("puts an option too long for the column on its own line, its explanation aligned under the others", () => {
    const text = commandHelp("x", {
      usage: "pat x",
      summary: "does x",
      options: [
        ["--a N", "short"],
        ["--a-very-long-option-name VALUE-IT-TAKES", "long"],
      ],
      examples: ["pat x --a 1"],
      run: () => Promise.resolve(0),
    });
    expect(text.split("\n")).toEqual(expect.arrayContaining(["  --a N  short", "  --a-very-long-option-name VALUE-IT-TAKES", "         long"]));
  });
});
