import { describe, expect, it } from "vitest";
import { formatCommitMessage, parseTrailers } from "./trailers.js";

describe("formatCommitMessage", () => {
  it("writes a subject, a blank line and one trailer per line, in order (SPEC §4.2)", () => {
    const message = formatCommitMessage({
      subject: "fork: tournament -> tournament_swiss",
      trailers: { Op: "fork", Pattern: "tournament_swiss", Version: "0.1.0", Parent: "tournament@2.0.0", Agent: "orch_7f3e", Reason: "Swiss pairing for 5-10 participants" },
    });
    expect(message).toBe(
      "fork: tournament -> tournament_swiss\n\nOp: fork\nPattern: tournament_swiss\nVersion: 0.1.0\nParent: tournament@2.0.0\nAgent: orch_7f3e\nReason: Swiss pairing for 5-10 participants\n",
    );
  });

  it.each([
    ["a newline in a value is folded", { Reason: "first line\nsecond line" }, "Reason: first line second line"],
    ["a CRLF and indentation are folded", { Reason: "a\r\n   b" }, "Reason: a b"],
    ["a blank line in a value is folded", { Reason: "a\n\nb" }, "Reason: a b"],
    ["an empty value is left out", { Op: "create", Agent: "" }, "Op: create"],
    ["a value of only whitespace is left out", { Op: "create", Reason: " \n " }, "Op: create"],
    ["surrounding whitespace is trimmed", { Reason: "  padded \n" }, "Reason: padded"],
    ["a colon inside a value is kept", { Reason: "ratio: 2:1" }, "Reason: ratio: 2:1"],
  ])("%s", (_label, trailers, block) => {
    const message = formatCommitMessage({ subject: "s", trailers });
    expect(message).toBe(`s\n\n${block}\n`);
  });

  it("a newline in the subject is folded: the subject stays one line", () => {
    expect(formatCommitMessage({ subject: "line one\n\nline two", trailers: { Op: "save" } })).toBe("line one line two\n\nOp: save\n");
  });
});

describe("parseTrailers", () => {
  it.each([
    [{ Op: "create", Pattern: "x", Version: "1.0.0" }],
    [{ Op: "fork", Reason: "many\nlines\n\nof text" }],
    [{ Op: "delete", Agent: "", Pattern: "x" }],
    [{ Op: "update", Reason: "   \n  " }],
    [{ Op: "update", Reason: "a: b: c" }],
  ])("reads back what formatCommitMessage wrote: %j", (trailers) => {
    const expected = Object.fromEntries(
      Object.entries(trailers)
        .map(([key, value]) => [key, value.replace(/\s+/g, " ").trim()])
        .filter(([, value]) => value !== ""),
    );
    expect(parseTrailers(formatCommitMessage({ subject: "subject\nwith a newline", trailers }))).toEqual(expected);
  });

  it.each([
    ["a subject only", "just a subject"],
    ["a subject with a newline at the end", "just a subject\n"],
    ["a subject and a prose body", "subject\n\nSome prose explaining the change."],
    ["a last paragraph that is only partly trailers", "subject\n\nOp: save\nnot a trailer line"],
    ["an empty message", ""],
    ["a key with a space", "subject\n\nNot A Key: value"],
  ])("%s → {}", (_label, message) => {
    expect(parseTrailers(message)).toEqual({});
  });

  it("reads only the last paragraph", () => {
    expect(parseTrailers("subject\n\nKey: in the body\n\nOp: save\nAgent: a1\n")).toEqual({ Op: "save", Agent: "a1" });
  });

  it("reads a message git gave back (trailing newline trimmed)", () => {
    expect(parseTrailers("seed: 30 starter patterns\n\nOp: seed\nPatterns: 30")).toEqual({ Op: "seed", Patterns: "30" });
  });
});

describe("formatCommitMessage with control characters", () => {
  it("never passes a NUL or another control character to git; tabs and text stay", () => {
    const message = formatCommitMessage({ subject: "create: x\u0000 1.0.0", trailers: { Agent: "ev\u0000il\u001b[31m", Reason: "a\tb" } });
    expect([...message].filter((c) => c < " " && c !== "\n" && c !== "\t")).toEqual([]);
    expect(message).toBe("create: x\ufffd 1.0.0\n\nAgent: ev\ufffdil\ufffd[31m\nReason: a\tb\n");
  });
});
