/** pat help EVENT on a terminal: enum values, what an open param takes, and the reply's shape. */
import { describe, expect, it } from "vitest";
import { renderHelp, typeName, type HelpResult } from "./render-help.js";

const MERGE_HELP: HelpResult = {
  event: "composition:merge",
  summary: "3-way merge a fork back into its parent",
  description: "3-way merge a fork back into its parent",
  params: {
    properties: {
      source: { type: "string", description: "the fork to merge" },
      strategy: { type: "string", enum: ["auto", "ours", "theirs"], default: "auto" },
      resolve: { type: "object", additionalProperties: {}, description: "conflict path → the value to keep" },
      collect: { type: "object", properties: { max: { type: "integer" }, wait_ms: { type: "integer" } } },
    },
    required: ["source"],
  },
  result: {
    anyOf: [
      {
        type: "object",
        description: "merged",
        properties: { merged: { type: "boolean", const: true }, commit: { type: "string" }, resolved: { type: "array", items: { type: "string" } } },
        required: ["merged", "commit"],
      },
      {
        type: "object",
        description: "dry_run: nothing written",
        properties: {
          dry_run: { type: "boolean", const: true },
          conflicts: { type: "array", items: { type: "object", properties: { path: { type: "string" }, ours: {}, theirs: {} } } },
        },
        required: ["dry_run", "conflicts"],
      },
    ],
  },
  example: { event: "composition:merge", data: { source: "tournament_swiss", dry_run: true } },
};

describe("renderHelp: params", () => {
  it("names an enum's values, an open object and a nested object's fields", () => {
    const lines = renderHelp(MERGE_HELP).split("\n");
    expect(lines).toContain('  --strategy  one of auto, ours, theirs [default "auto"]');
    expect(lines).toContain("  --resolve   JSON object  conflict path → the value to keep");
    expect(lines).toContain("  --collect   object  {max, wait_ms}");
  });

  it("says what an any-typed param takes: any JSON value, z.json()'s every type in one word, a JSON Logic rule", () => {
    expect(typeName({})).toBe("any JSON value");
    expect(typeName({ anyOf: ["string", "number", "boolean", "null", "array", "object"].map((type) => ({ type })) })).toBe("any JSON value");
    expect(typeName({ type: ["object", "boolean"], format: "json-logic" })).toBe("JSON Logic rule (object or true/false)");
    expect(typeName({ type: "object", "x-keys": "dotted-paths" })).toBe("object {dotted.path: value}");
    expect(typeName({ type: ["string", "null"] })).toBe("string | null");
    expect(typeName({ type: "string", enum: ["json", "tree", "mermaid", "dot"] })).toBe("one of json, tree, mermaid, dot");
  });
});

describe("renderHelp: reply", () => {
  it("lists each shape a reply takes under what tells it apart; optional fields end in ?; nested fields show", () => {
    const text = renderHelp(MERGE_HELP);
    const lines = text.split("\n");
    const reply = lines.indexOf("reply, one of:");
    expect(reply).toBeGreaterThan(0);
    expect(lines.slice(reply + 1, reply + 9)).toEqual([
      "  merged:",
      "    merged     true",
      "    commit     string",
      "    resolved?  array of string",
      "  dry_run: nothing written:",
      "    dry_run    true",
      "    conflicts  array of object  each {path, ours, theirs}",
      "",
    ]);
    // The example stays last, to copy.
    expect(lines.slice(-2)).toEqual(["example:", `  pat send composition:merge '{"source":"tournament_swiss","dry_run":true}'`]);
  });

  it("a reply of one shape is one field list; an event without a result schema (a connected handler's) shows none", () => {
    const one = renderHelp({ ...MERGE_HELP, result: { type: "object", properties: { key: { type: "string" }, value: {} }, required: ["key", "value"] } }).split("\n");
    expect(one).toContain("reply:");
    expect(one).toContain("  key    string");
    expect(one).toContain("  value  any JSON value");
    expect(renderHelp({ ...MERGE_HELP, result: undefined })).not.toContain("reply");
  });
});
