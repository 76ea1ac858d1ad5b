import { describe, expect, it } from "vitest";
import { nextFreeTag, planPaths, planTags, unionDecisionLogs, type TagSide } from "./sync-plan.js";

const tree = (entries: Record<string, string>) => new Map(Object.entries(entries));

describe("planPaths: what each path changed since the base needs", () => {
  const P = "orchestrations/x.yaml";
  const cases: { what: string; base: Record<string, string>; ours: Record<string, string>; theirs: Record<string, string>; want: unknown[] }[] = [
    { what: "unchanged on both sides", base: { [P]: "a" }, ours: { [P]: "a" }, theirs: { [P]: "a" }, want: [] },
    { what: "only ours changed: stays", base: { [P]: "a" }, ours: { [P]: "b" }, theirs: { [P]: "a" }, want: [] },
    { what: "only theirs changed: taken", base: { [P]: "a" }, ours: { [P]: "a" }, theirs: { [P]: "c" }, want: [{ path: P, action: "take", blob: "c" }] },
    { what: "theirs removed it: removed", base: { [P]: "a" }, ours: { [P]: "a" }, theirs: {}, want: [{ path: P, action: "take", blob: null }] },
    { what: "the same edit on both sides: nothing", base: { [P]: "a" }, ours: { [P]: "b" }, theirs: { [P]: "b" }, want: [] },
    { what: "unrelated histories, same content (no base): nothing", base: {}, ours: { [P]: "a" }, theirs: { [P]: "a" }, want: [] },
    { what: "new on theirs only (no base): taken", base: {}, ours: {}, theirs: { [P]: "a" }, want: [{ path: P, action: "take", blob: "a" }] },
    { what: "both changed a pattern: merged", base: { [P]: "a" }, ours: { [P]: "b" }, theirs: { [P]: "c" }, want: [{ path: P, action: "merge", kind: "pattern" }] },
    {
      what: "both appended to a decision log: merged",
      base: { "orchestrations/x_decisions.yaml": "a" },
      ours: { "orchestrations/x_decisions.yaml": "b" },
      theirs: { "orchestrations/x_decisions.yaml": "c" },
      want: [{ path: "orchestrations/x_decisions.yaml", action: "merge", kind: "decisions" }],
    },
    { what: "both moved labels: merged", base: {}, ours: { "labels.yaml": "b" }, theirs: { "labels.yaml": "c" }, want: [{ path: "labels.yaml", action: "merge", kind: "labels" }] },
    { what: "removed against an edit: conflict", base: { [P]: "a" }, ours: {}, theirs: { [P]: "c" }, want: [{ path: P, action: "conflict", reason: "deleted_and_changed" }] },
    { what: "another file changed on both sides: conflict", base: { "README.txt": "a" }, ours: { "README.txt": "b" }, theirs: { "README.txt": "c" }, want: [{ path: "README.txt", action: "conflict", reason: "changed_both" }] },
  ];
  for (const c of cases) {
    it(c.what, () => expect(planPaths(tree(c.base), tree(c.ours), tree(c.theirs))).toEqual(c.want));
  }
});

describe("unionDecisionLogs: every record once, by id, in time order", () => {
  const rec = (id: string | undefined, ts: string, decision = "d") => `- ${id === undefined ? "" : `id: ${id}\n  `}pattern: x\n  decision: ${decision}\n  timestamp: "${ts}"\n`;
  const cases: { what: string; ours: string; theirs: string; ids: (string | undefined)[]; added: number }[] = [
    { what: "disjoint records interleave by timestamp", ours: rec("a", "2026-01-01") + rec("c", "2026-01-03"), theirs: rec("b", "2026-01-02"), ids: ["a", "b", "c"], added: 1 },
    { what: "a record on both sides is kept once", ours: rec("a", "2026-01-01") + rec("b", "2026-01-02"), theirs: rec("a", "2026-01-01") + rec("c", "2026-01-03"), ids: ["a", "b", "c"], added: 1 },
    { what: "same timestamp: ordered by id", ours: rec("z", "2026-01-01"), theirs: rec("y", "2026-01-01"), ids: ["y", "z"], added: 1 },
    { what: "records without id (KSI) dedupe by content", ours: rec(undefined, "2026-01-01"), theirs: rec(undefined, "2026-01-01") + rec(undefined, "2026-01-01", "other"), ids: [undefined, undefined], added: 1 },
    { what: "an empty side", ours: "", theirs: rec("a", "2026-01-01"), ids: ["a"], added: 1 },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const merged = unionDecisionLogs(c.ours, c.theirs)!;
      expect(merged.added).toBe(c.added);
      const ids = [...merged.text.matchAll(/^- (?:id: (\S+)|pattern)/gm)].map((m) => m[1]);
      expect(ids).toEqual(c.ids);
      // The same union from the other side is the same text: stores converge byte for byte.
      expect(unionDecisionLogs(c.theirs, c.ours)!.text).toBe(merged.text);
    });
  }
  it("a log that does not parse cannot be merged", () => expect(unionDecisionLogs("- a: [", rec("a", "x"))).toBeNull());
});

describe("planTags: collisions of versions made on two machines", () => {
  const side = (commit: string, blob?: string): TagSide => ({ commit, blob });
  const never = () => false;
  it("a remote tag not here is imported", () => {
    expect(planTags(new Map(), new Map([["x@1.0.0", side("r1", "b1")]]), never)).toEqual({ imports: [{ tag: "x@1.0.0", commit: "r1" }], renames: [], stuck: [] });
  });
  it("the same file content under the same tag is the same version (seeded on both machines)", () => {
    expect(planTags(new Map([["x@1.0.0", side("l1", "b1")]]), new Map([["x@1.0.0", side("r1", "b1")]]), never)).toEqual({ imports: [], renames: [], stuck: [] });
  });
  it("other content: the local unpublished one is renumbered to the next patch free on both sides", () => {
    const local = new Map([
      ["x@1.1.0", side("l1", "bl")],
      ["x@1.1.1", side("l2", "bl2")],
    ]);
    const remote = new Map([
      ["x@1.1.0", side("r1", "br")],
      ["x@1.1.2", side("r2", "br2")],
    ]);
    expect(planTags(local, remote, never)).toEqual({
      imports: [
        { tag: "x@1.1.0", commit: "r1" },
        { tag: "x@1.1.2", commit: "r2" },
      ],
      renames: [{ from: "x@1.1.0", to: "x@1.1.3", commit: "l1" }],
      stuck: [],
    });
  });
  it("a published (pushed) tag is never moved", () => {
    expect(planTags(new Map([["x@1.1.0", side("l1", "bl")]]), new Map([["x@1.1.0", side("r1", "br")]]), () => true)).toEqual({
      imports: [],
      renames: [],
      stuck: [{ tag: "x@1.1.0", ours: "l1", theirs: "r1" }],
    });
  });
  it("nextFreeTag skips taken patches", () => expect(nextFreeTag("a@1.0.0", new Set(["a@1.0.1", "a@1.0.2"]))).toBe("a@1.0.3"));
});
