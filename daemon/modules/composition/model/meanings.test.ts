import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Meanings, parseMeanings, type MeaningEntry } from "./meanings.js";

const entries: MeaningEntry[] = [
  { concept: "tournament", phrases: ["knock out", "head to head", "bracket"] },
  { concept: "majority vote", phrases: ["most voters", "popular answer"] },
  { concept: "head", phrases: ["head"] },
];
const meanings = new Meanings(entries);

describe("Meanings.match", () => {
  const cases: Array<{ task: string; want: Array<[string, string]> }> = [
    { task: "Knock them out", want: [] },
    { task: "knock-out rounds between drafts", want: [["knock out", "tournament"]] },
    { task: "drafts get knocked out one by one", want: [["knocked out", "tournament"]] },
    { task: "KNOCKING OUT the weak ones", want: [["knocking out", "tournament"]] },
    { task: "take the answer most voters give", want: [["most voters", "majority vote"]] },
    // Stop words are part of a phrase: "most of the voters" is not "most voters".
    { task: "most of the voters", want: [] },
    // The longest phrase from a word wins, and its words are not matched again.
    { task: "head to head matches", want: [["head to head", "tournament"]] },
    { task: "the head of the team", want: [["head", "head"]] },
    // A concept is named once, by its first phrase.
    { task: "a bracket, then knock out rounds and the popular answer", want: [["bracket", "tournament"], ["popular answer", "majority vote"]] },
    { task: "nothing to see here", want: [] },
  ];
  for (const { task, want } of cases) {
    it(`${JSON.stringify(task)} → ${JSON.stringify(want)}`, () => {
      expect(meanings.match(task).map((m) => [m.written, m.concept])).toEqual(want);
    });
  }

  it("gives the concept's terms as stems, what a query searches", () => {
    expect(meanings.match("most voters").map((m) => m.terms)).toEqual([["major", "vot"]]);
  });

  it("has none without entries", () => {
    expect(Meanings.none.match("knock-out rounds")).toEqual([]);
  });
});

describe("parseMeanings", () => {
  const cases: Array<{ data: unknown; error?: RegExp }> = [
    { data: { meanings: [{ concept: "tournament", phrases: ["knock out"] }] } },
    { data: { meanings: "tournament" }, error: /f\.yaml: meanings needs a top-level list/ },
    { data: null, error: /meanings needs a top-level list/ },
    { data: { meanings: [{ concept: "the", phrases: ["x y"] }] }, error: /meanings\.0\.concept needs a concept/ },
    { data: { meanings: [{ concept: "tournament" }] }, error: /meanings\.0\.phrases needs a list of everyday phrasings/ },
    { data: { meanings: [{ concept: "tournament", phrases: ["ok", 3] }] }, error: /meanings\.0\.phrases/ },
    { data: { meanings: [{ concept: "tournament", phrases: ["!!"] }] }, error: /meanings\.0\.phrases/ },
  ];
  for (const { data, error } of cases) {
    it(`${JSON.stringify(data)} → ${error === undefined ? "ok" : String(error)}`, () => {
      if (error === undefined) expect(parseMeanings(data, "f.yaml")).toEqual((data as { meanings: unknown }).meanings);
      else expect(() => parseMeanings(data, "f.yaml")).toThrow(error);
    });
  }

  it("reads the bundled file, and every concept names words the bundled library uses", () => {
    const path = fileURLToPath(new URL("../../../../compositions/meanings/meanings.yaml", import.meta.url));
    const parsed = parseMeanings(parse(readFileSync(path, "utf8")), path);
    expect(parsed.length).toBeGreaterThan(20);
    const bundled = new Meanings(parsed);
    expect(bundled.match("knock-out rounds between drafts").map((m) => `'${m.written}' ≈ ${m.concept}`)).toEqual(["'knock out' ≈ tournament"]);
  });
});
