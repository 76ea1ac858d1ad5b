import { describe, expect, it } from "vitest";
import { DaemonError } from "../../../core/errors.js";
import { buildLineage, renderDot, renderMermaid, renderTree, type LineageInput } from "./lineage.js";

/** grand → parent → {child_a → grandchild, child_b}, plus an unrelated pattern. */
const family: LineageInput[] = [
  { name: "grand", version: "1.0.0", forks: ["parent"] },
  { name: "parent", version: "2.0.0", parent: "grand@1.0.0", forks: ["child_a", "child_b"] },
  { name: "child_a", version: "0.1.0", parent: "parent@2.0.0", forks: ["grandchild"] },
  { name: "child_b", version: "0.2.0", parent: "parent@1.0.0" },
  { name: "grandchild", version: "0.1.0", parent: "child_a@0.1.0" },
  { name: "unrelated", version: "1.0.0" },
];

describe("buildLineage", () => {
  it("gives ancestors nearest first and descendants breadth-first", () => {
    expect(buildLineage(family, "parent", "both")).toEqual({
      pattern: "parent",
      direction: "both",
      root: "grand",
      ancestors: ["grand"],
      descendants: ["child_a", "child_b", "grandchild"],
      nodes: [
        { name: "grand", version: "1.0.0" },
        { name: "parent", version: "2.0.0", parent: "grand", parent_version: "1.0.0" },
        { name: "child_a", version: "0.1.0", parent: "parent", parent_version: "2.0.0" },
        { name: "child_b", version: "0.2.0", parent: "parent", parent_version: "1.0.0" },
        { name: "grandchild", version: "0.1.0", parent: "child_a", parent_version: "0.1.0" },
      ],
      edges: [
        { from: "grand", to: "parent", parent_version: "1.0.0" },
        { from: "parent", to: "child_a", parent_version: "2.0.0" },
        { from: "parent", to: "child_b", parent_version: "1.0.0" },
        { from: "child_a", to: "grandchild", parent_version: "0.1.0" },
      ],
    });
  });

  it("up: only the line of ancestors, siblings left out", () => {
    const graph = buildLineage(family, "grandchild", "up");
    expect(graph).toMatchObject({ root: "grand", ancestors: ["child_a", "parent", "grand"], descendants: [] });
    expect(graph.nodes.map((n) => n.name)).toEqual(["grand", "parent", "child_a", "grandchild"]);
    expect(graph.edges.map((e) => `${e.from}>${e.to}`)).toEqual(["grand>parent", "parent>child_a", "child_a>grandchild"]);
  });

  it("down: only what was forked from it, the pattern being the root", () => {
    const graph = buildLineage(family, "child_a", "down");
    expect(graph).toMatchObject({ root: "child_a", ancestors: [], descendants: ["grandchild"] });
    expect(graph.edges.map((e) => `${e.from}>${e.to}`)).toEqual(["child_a>grandchild"]);
  });

  it("a pattern with no family is a graph of one", () => {
    expect(buildLineage(family, "unrelated", "both")).toMatchObject({ root: "unrelated", ancestors: [], descendants: [], nodes: [{ name: "unrelated", version: "1.0.0" }], edges: [] });
  });

  it("takes children from both records: the parent's forks list and the child's lineage.parent", () => {
    const patterns: LineageInput[] = [
      { name: "p", version: "1.0.0", forks: ["listed_only", "both"] },
      { name: "listed_only", version: "0.1.0" },
      { name: "both", version: "0.1.0", parent: "p@1.0.0" },
      { name: "claims_only", version: "0.1.0", parent: "p@1.0.0" },
    ];
    const graph = buildLineage(patterns, "p", "down");
    expect(graph.descendants).toEqual(["listed_only", "both", "claims_only"]);
    expect(graph.edges).toEqual([
      { from: "p", to: "listed_only" },
      { from: "p", to: "both", parent_version: "1.0.0" },
      { from: "p", to: "claims_only", parent_version: "1.0.0" },
    ]);
    // Going up, the forks list stands in for a lineage the child lost.
    expect(buildLineage(patterns, "listed_only", "up").ancestors).toEqual(["p"]);
    expect(buildLineage(patterns, "listed_only", "up").nodes[1]).toEqual({ name: "listed_only", version: "0.1.0", parent: "p" });
  });

  it("the child's own lineage.parent wins over another pattern's stale forks list", () => {
    const patterns: LineageInput[] = [
      { name: "old", version: "1.0.0", forks: ["c"] },
      { name: "real", version: "1.0.0" },
      { name: "c", version: "0.1.0", parent: "real@1.0.0" },
    ];
    expect(buildLineage(patterns, "c", "up").ancestors).toEqual(["real"]);
  });

  it("marks a parent no longer in the store as missing, and one deleted fork the same way", () => {
    const patterns: LineageInput[] = [
      { name: "orphan", version: "0.3.0", parent: "gone@1.2.0", forks: ["deleted_fork"] },
    ];
    const graph = buildLineage(patterns, "orphan", "both");
    expect(graph).toMatchObject({ root: "gone", ancestors: ["gone"], descendants: ["deleted_fork"] });
    expect(graph.nodes).toEqual([
      { name: "gone", missing: true },
      { name: "orphan", version: "0.3.0", parent: "gone", parent_version: "1.2.0" },
      { name: "deleted_fork", missing: true },
    ]);
    expect(graph.edges).toEqual([
      { from: "gone", to: "orphan", parent_version: "1.2.0" },
      { from: "orphan", to: "deleted_fork" },
    ]);
    expect(renderTree(graph)).toBe(["gone (missing)", "└── orphan@0.3.0 *", "    └── deleted_fork (missing)", ""].join("\n"));
  });

  it("stops at a cycle instead of looping", () => {
    const patterns: LineageInput[] = [
      { name: "a", version: "1.0.0", parent: "c@1.0.0" },
      { name: "b", version: "1.0.0", parent: "a@1.0.0" },
      { name: "c", version: "1.0.0", parent: "b@1.0.0", forks: ["a"] },
    ];
    const graph = buildLineage(patterns, "a", "both");
    expect(graph.ancestors).toEqual(["c", "b"]);
    expect(graph.descendants).toEqual(["b", "c"]);
    expect(graph.nodes.map((n) => n.name)).toEqual(["b", "c", "a"]);
    expect(renderTree(graph)).toBe(["b@1.0.0", "└── c@1.0.0", "    └── a@1.0.0 *", "        └── b@1.0.0 (cycle)", ""].join("\n"));
    expect(renderMermaid(graph)).toContain("p_a --> p_b");
    expect(buildLineage([{ name: "self", version: "1.0.0", parent: "self@1.0.0" }], "self", "both")).toMatchObject({ ancestors: [], descendants: [] });
  });

  it("does not depend on the order patterns are listed in", () => {
    const shuffled = [family[4]!, family[1]!, family[5]!, family[3]!, family[0]!, family[2]!];
    expect(buildLineage(shuffled, "parent", "both")).toEqual(buildLineage(family, "parent", "both"));
  });

  it("refuses a pattern that is not in the store", () => {
    expect(() => buildLineage(family, "nope", "both")).toThrow(DaemonError);
    try {
      buildLineage(family, "nope", "both");
    } catch (err) {
      expect((err as DaemonError).code).toBe("not_found");
    }
  });
});

describe("renderers", () => {
  const graph = buildLineage(family, "parent", "both");

  it("tree: from the top-most ancestor, the pattern asked about marked", () => {
    expect(renderTree(graph)).toBe(
      ["grand@1.0.0", "└── parent@2.0.0 *", "    ├── child_a@0.1.0", "    │   └── grandchild@0.1.0", "    └── child_b@0.2.0", ""].join("\n"),
    );
    expect(renderTree(buildLineage(family, "grandchild", "up"))).toBe(
      ["grand@1.0.0", "└── parent@2.0.0", "    └── child_a@0.1.0", "        └── grandchild@0.1.0 *", ""].join("\n"),
    );
  });

  it("tree: a pattern reached twice is shown once in full", () => {
    const patterns: LineageInput[] = [
      { name: "p", version: "1.0.0", forks: ["x", "y"] },
      { name: "x", version: "1.0.0", parent: "p@1.0.0", forks: ["y"] },
      { name: "y", version: "1.0.0", parent: "p@1.0.0", forks: ["z"] },
      { name: "z", version: "1.0.0", parent: "y@1.0.0" },
    ];
    expect(renderTree(buildLineage(patterns, "p", "down"))).toBe(
      ["p@1.0.0 *", "├── x@1.0.0", "│   └── y@1.0.0", "│       └── z@1.0.0", "└── y@1.0.0 (see above)", ""].join("\n"),
    );
  });

  it("mermaid", () => {
    expect(renderMermaid(graph)).toBe(
      [
        "graph TD",
        '  p_grand["grand@1.0.0"]',
        '  p_parent["parent@2.0.0"]',
        '  p_child_a["child_a@0.1.0"]',
        '  p_child_b["child_b@0.2.0"]',
        '  p_grandchild["grandchild@0.1.0"]',
        "  p_grand --> p_parent",
        "  p_parent --> p_child_a",
        "  p_parent --> p_child_b",
        "  p_child_a --> p_grandchild",
        "  classDef requested stroke-width:3px",
        "  class p_parent requested",
        "",
      ].join("\n"),
    );
  });

  it("mermaid: ids stay clear of keywords and apart when names collide; missing ones dashed", () => {
    const text = renderMermaid(buildLineage([{ name: "end", version: "1.0.0", parent: "a-b@1.0.0" }, { name: "a_b", version: "1.0.0", parent: "end@1.0.0" }], "end", "both"));
    expect(text).toContain('  p_a_b["a-b (missing)"]');
    expect(text).toContain('  p_end["end@1.0.0"]');
    expect(text).toContain('  p_a_b_2["a_b@1.0.0"]');
    expect(text).toContain("  p_a_b --> p_end\n  p_end --> p_a_b_2\n");
    expect(text).toContain("  classDef missing stroke-dasharray:5 5\n  class p_a_b missing\n");
  });

  it("dot", () => {
    expect(renderDot(graph)).toBe(
      [
        "digraph lineage {",
        '  "grand" [label="grand@1.0.0"];',
        '  "parent" [label="parent@2.0.0", style=bold];',
        '  "child_a" [label="child_a@0.1.0"];',
        '  "child_b" [label="child_b@0.2.0"];',
        '  "grandchild" [label="grandchild@0.1.0"];',
        '  "grand" -> "parent";',
        '  "parent" -> "child_a";',
        '  "parent" -> "child_b";',
        '  "child_a" -> "grandchild";',
        "}",
        "",
      ].join("\n"),
    );
  });

  it("dot: quotes and backslashes in ids are escaped; missing ones dashed", () => {
    const text = renderDot(buildLineage([{ name: 'we"ird\\', version: "1.0.0", parent: "gone@1.0.0" }], 'we"ird\\', "up"));
    expect(text).toContain('  "we\\"ird\\\\" [label="we\\"ird\\\\@1.0.0", style=bold];');
    expect(text).toContain('  "gone" [label="gone (missing)", style=dashed];');
  });
});
