import { describe, expect, it } from "vitest";
import { errorResult, fitToBudget, okResult, summaryLine } from "./result.js";

const size = (value: unknown) => JSON.stringify(value).length;

describe("fitToBudget", () => {
  it("leaves a value that fits alone", () => {
    const value = { selected: "tournament", candidates: [{ name: "a" }, { name: "b" }] };
    expect(fitToBudget(value, 1_000)).toEqual({ value, cuts: [] });
  });

  it("cuts the largest list to a prefix and says how much was kept", () => {
    const decisions = Array.from({ length: 2_000 }, (_, i) => ({ id: `d${i}`, decision: "use three judges per match", outcome: "success" }));
    const { value, cuts } = fitToBudget({ pattern: "tournament", decisions, stats: { total: 2_000 } }, 10_000);
    const fitted = value as { pattern: string; decisions: { id: string }[]; stats: unknown };
    expect(size(fitted)).toBeLessThanOrEqual(10_000);
    expect(fitted.pattern).toBe("tournament");
    expect(fitted.stats).toEqual({ total: 2_000 });
    expect(fitted.decisions[0]!.id).toBe("d0");
    expect(fitted.decisions.map((d) => d.id)).toEqual(decisions.slice(0, fitted.decisions.length).map((d) => d.id));
    expect(cuts).toEqual([{ path: "decisions", total: 2_000, kept: fitted.decisions.length }]);
  });

  it("cuts a long text when it is the largest part", () => {
    const yaml = "step: x\n".repeat(20_000);
    const { value, cuts } = fitToBudget({ name: "big", yaml }, 5_000);
    const fitted = value as { name: string; yaml: string };
    expect(size(fitted)).toBeLessThanOrEqual(5_000);
    expect(fitted.yaml.endsWith("…")).toBe(true);
    expect(yaml.startsWith(fitted.yaml.slice(0, -1))).toBe(true);
    expect(cuts[0]).toMatchObject({ path: "yaml", total: yaml.length });
  });

  it("reaches into nested lists and keys that hold dots", () => {
    const value = { keys: { "run_42.log": Array.from({ length: 500 }, (_, i) => `line ${i} of the run log, long enough to count`) } };
    const { value: fitted, cuts } = fitToBudget(value, 2_000);
    expect(size(fitted)).toBeLessThanOrEqual(2_000);
    expect((fitted as typeof value).keys["run_42.log"].length).toBeGreaterThan(0);
    expect(cuts[0]!.path).toBe("keys.run_42.log");
  });

  it("does not change the value it was given", () => {
    const value = { list: Array.from({ length: 1_000 }, (_, i) => i) };
    fitToBudget(value, 100);
    expect(value.list).toHaveLength(1_000);
  });
});

describe("okResult", () => {
  it("gives the reply as structured content and as text after a summary line", () => {
    const result = okResult("composition:fork", { name: "t2", version: "0.1.0", new_paths: [] });
    expect(result.structuredContent).toEqual({ name: "t2", version: "0.1.0", new_paths: [] });
    const [summary, json] = result.content[0]!.text.split("\n");
    expect(summary).toBe('composition:fork ok (name: "t2", version: "0.1.0", new_paths: 0 items)');
    expect(JSON.parse(json!)).toEqual(result.structuredContent);
    expect(result.isError).toBeUndefined();
  });

  it("wraps a reply that is not an object", () => {
    expect(okResult("x:y", [1, 2]).structuredContent).toEqual({ result: [1, 2] });
    expect(okResult("x:y", null).structuredContent).toEqual({ result: null });
  });

  it("says what it cut and how to see the rest", () => {
    const result = okResult("composition:discover", { compositions: Array.from({ length: 5_000 }, (_, i) => ({ name: `p${i}`, description: "a pattern" })), total: 5_000 }, 20_000);
    expect(result.structuredContent.truncated).toEqual([{ path: "compositions", total: 5_000, kept: expect.any(Number) as number }]);
    expect(result.content[0]!.text).toMatch(/cut to fit: compositions keeps \d+ of 5000\. Ask for less \(limit, offset/);
    expect(size(result.structuredContent)).toBeLessThanOrEqual(10_100);
  });
});

describe("errorResult", () => {
  it("puts the stable code first and keeps it in structured content", () => {
    const result = errorResult("not_found", "no composition nope; did you mean tournament?", { suggestions: ["tournament"] });
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toBe('not_found: no composition nope; did you mean tournament?\ndetails: {"suggestions":["tournament"]}');
    expect(result.structuredContent).toEqual({ error: { code: "not_found", message: "no composition nope; did you mean tournament?", details: { suggestions: ["tournament"] } } });
  });
});

describe("summaryLine", () => {
  it("stops after six parts and shortens long text", () => {
    const line = summaryLine("e:v", { a: 1, b: "x".repeat(200), c: true, d: null, e: [1], f: 2, g: 3 });
    expect(line).toBe(`e:v ok (a: 1, b: "${"x".repeat(77)}...", c: true, d: null, e: 1 item, f: 2)`);
  });
});
