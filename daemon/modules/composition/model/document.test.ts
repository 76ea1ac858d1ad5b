import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_DOCUMENT_BYTES, YamlDocument, readData, readSequence } from "./document.js";
import { diffLines } from "./line-diff.js";

const REPO = join(import.meta.dirname, "../../../..");

function parsed(text: string): YamlDocument {
  const result = YamlDocument.parse(text);
  if (!result.ok) throw new Error(`expected to parse: ${JSON.stringify(result.issues)}`);
  return result.document;
}

/** The lines only in `before` and only in `after`, in order. */
function changedLines(before: string, after: string): { removed: string[]; added: string[] } {
  const a = before.split("\n");
  const b = after.split("\n");
  const ops = diffLines(a, b)!;
  return {
    removed: ops.flatMap((op) => (op.op === "delete" ? [a[op.a]!] : [])),
    added: ops.flatMap((op) => (op.op === "insert" ? [b[op.b]!] : [])),
  };
}

/** Billion laughs: ten levels of ten aliases each would expand to 10^10 leaves. */
function aliasBomb(): string {
  const lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
  for (let i = 1; i <= 9; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(", ")}]`);
  return `${lines.join("\n")}\n`;
}

/** A mapping whose text is exactly `bytes` long. */
function documentOfSize(bytes: number): string {
  const head = "name: big\npadding: ";
  return `${head}${"x".repeat(bytes - head.length - 1)}\n`;
}

describe("YamlDocument.parse refuses what is not a safe composition", () => {
  it.each([
    ["a !!js/function tag", "name: x\nrun: !!js/function 'function () { return 1 }'\n", /unresolved tag/i],
    ["a custom local tag", "name: x\nthing: !custom value\n", /unresolved tag.*!custom/i],
    ["a custom tag on a mapping", "name: x\nthing: !python/object {a: 1}\n", /unresolved tag/i],
    ["duplicate keys", "name: x\ndescription: one\ndescription: two\n", /unique/i],
    ["duplicate nested keys", "name: x\nmetadata:\n  tags: [a]\n  tags: [b]\n", /unique/i],
    ["an alias bomb", aliasBomb(), /alias/i],
    ["a document of 1 MiB + 1 byte", documentOfSize(MAX_DOCUMENT_BYTES + 1), /1048577 bytes.*1 MiB/],
    ["a top-level list", "- name: x\n- name: y\n", /mapping/],
    ["a top-level scalar", "just some words\n", /mapping/],
    ["a top-level number", "42\n", /mapping/],
    ["an empty document", "", /mapping/],
    ["a document of only comments", "# nothing here\n", /mapping/],
    ["an unclosed flow list", "name: x\ntags: [a, b\ndescription: y\n", /^line \d+, column \d+: /],
    ["a bad indentation", "name: x\nmetadata:\n  tags: [a]\n bad: 1\n", /^line 4, column \d+: /],
    // Issue 24: the parser's own stack ran out, and the person read "Maximum call stack size exceeded".
    ["10 000 nested flow lists", `name: x\ndeep: ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`, /^line 2, column \d+: maps and lists nested deeper than 128 levels$/],
    ["10 000 nested flow maps", `name: x\ndeep: ${"{a: ".repeat(10_000)}1${"}".repeat(10_000)}\n`, /^line 2, column \d+: maps and lists nested deeper than 128 levels$/],
    ["200 nested flow lists (parses, but past the bound)", `name: x\ndeep: ${"[".repeat(200)}${"]".repeat(200)}\n`, /^maps and lists nested deeper than 128 levels \(under deep\)$/],
    ["1 000 nested block maps", `name: x\ndeep:\n${Array.from({ length: 1_000 }, (_, i) => `${" ".repeat(i + 1)}k:\n`).join("")}`, /nested deeper than 128 levels/],
  ])("%s", (_label, text, message) => {
    const result = YamlDocument.parse(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.length).toBeGreaterThan(0);
    expect(result.issues[0]!.message).toMatch(message);
    for (const issue of result.issues) expect(issue.message).not.toContain("\n");
  });

  it("nesting up to the bound is accepted", () => {
    const depth = 127;
    expect(YamlDocument.parse(`name: x\ndeep: ${"[".repeat(depth)}${"]".repeat(depth)}\n`).ok).toBe(true);
    expect(YamlDocument.parse(`name: x\ndeep: ${"[".repeat(depth + 1)}${"]".repeat(depth + 1)}\n`).ok).toBe(false);
  });

  it.each([
    ["readData (the catalog's reader), fast path", () => readData(`name: x\ndeep: ${"[".repeat(200)}${"]".repeat(200)}\n`)],
    ["readData, 10 000 deep", () => readData(`name: x\ndeep: ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`)],
    ["readSequence (a decision log)", () => readSequence(`- deep: ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`)],
  ])("%s refuses hostile nesting with a sentence", (_label, read) => {
    const result = read();
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]!.message).toMatch(/maps and lists nested deeper than 128 levels/);
  });

  it("a syntax error names the line and column where it is", () => {
    const result = YamlDocument.parse("name: x\ndescription: ok\nthing: a: b\n");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]!.message).toMatch(/^line 3, column \d+: \S/);
  });

  it("the alias bomb is refused fast (nothing is expanded)", () => {
    const started = performance.now();
    expect(YamlDocument.parse(aliasBomb()).ok).toBe(false);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("a document of exactly 1 MiB is accepted; the limit counts bytes, not characters", () => {
    expect(YamlDocument.parse(documentOfSize(MAX_DOCUMENT_BYTES)).ok).toBe(true);
    // 'é' is two bytes in UTF-8: fewer characters than the limit, more bytes.
    const wide = `name: wide\npadding: ${"é".repeat(MAX_DOCUMENT_BYTES / 2)}\n`;
    expect(wide.length).toBeLessThan(MAX_DOCUMENT_BYTES);
    expect(YamlDocument.parse(wide).ok).toBe(false);
  });

  it.each([
    ["a few aliases", "base: &b {x: 1}\none: *b\ntwo: *b\n", { base: { x: 1 }, one: { x: 1 }, two: { x: 1 } }],
    ["core schema scalars", "a: 1\nb: 1.5\nc: true\nd: null\ne: '1'\nf: 0x10\n", { a: 1, b: 1.5, c: true, d: null, e: "1", f: 16 }],
    // YAML 1.1 booleans and sexagesimals are plain strings under the core schema.
    ["no YAML 1.1 surprises", "a: yes\nb: on\nc: 1:30\n", { a: "yes", b: "on", c: "1:30" }],
    ["standard tags", "a: !!str 12\nb: !!int '7'\n", { a: "12", b: 7 }],
  ])("accepts %s", (_label, text, data) => {
    expect(parsed(text).data).toEqual(data);
  });
});

describe("YamlDocument round trip", () => {
  const bundled = ["compositions", "profiles"].flatMap((dir) =>
    readdirSync(join(REPO, dir))
      .filter((file) => file.endsWith(".yaml"))
      .map((file) => join(dir, file)),
  );

  it("finds the bundled library", () => {
    expect(bundled.length).toBeGreaterThanOrEqual(24);
  });

  // Decision logs are YAML lists, not compositions: they are appended to, never parsed as a document.
  const patterns = bundled.filter((path) => !path.endsWith("_decisions.yaml"));

  it.each(patterns)("%s comes back byte for byte", (path) => {
    const text = readFileSync(join(REPO, path), "utf8");
    expect(parsed(text).toString()).toBe(text);
  });

  it.each(patterns)("%s: a version change touches only the version line", (path) => {
    const text = readFileSync(join(REPO, path), "utf8");
    const doc = parsed(text);
    const version = String(doc.data.version);
    doc.applyObject({ ...doc.data, version: "9.9.9" });
    const changes = changedLines(text, doc.toString());
    expect(changes.removed).toEqual([expect.stringMatching(new RegExp(`^version: ${version.replace(/\./g, "\\.")}\\b`))]);
    expect(changes.added).toEqual([expect.stringMatching(/^version: 9\.9\.9\b/)]);
    expect(parsed(doc.toString()).data).toEqual({ ...parsed(text).data, version: "9.9.9" });
  });

  const withComponents = patterns.filter((path) => Array.isArray(parsed(readFileSync(join(REPO, path), "utf8")).data.components));

  it.each(withComponents)("%s: a new field in the last component adds one line", (path) => {
    const text = readFileSync(join(REPO, path), "utf8");
    const doc = parsed(text);
    const data = structuredClone(doc.data);
    const components = data.components as Record<string, unknown>[];
    components[components.length - 1]!.added_by_test = "yes";
    doc.applyObject(data);
    const changes = changedLines(text, doc.toString());
    expect(changes.removed).toEqual([]);
    expect(changes.added).toEqual([expect.stringMatching(/^ +added_by_test: yes$/)]);
  });

  it("a document built from an object serialises to YAML that parses back to it", () => {
    const value = { name: "x", type: "orchestration", version: "1.0.0", description: "d", metadata: { tags: ["a", "b"] }, n: 3, list: [{ a: 1 }] };
    expect(parsed(YamlDocument.fromObject(value).toString()).data).toEqual(value);
  });
});

const FIXTURE = `# A pattern written by hand.
# Two lines of header comment.
name: demo
type: orchestration
version: 1.0.0  # bumped by hand
description: A demo pattern   # keep this note
author: someone

metadata:
  # Tags drive discovery.
  tags: [alpha, beta]
  selection_criteria:
    participants: {min: 2, max: 8}
    latency: low  # fast enough
  use_cases:
    - first use
    - second use

# Not a core field: kept as written.
agents:
  - id: worker   # does the work
    profile: researcher
    prompt: |
      Do the thing.
        Keep this indentation.

routing:
  rules:
    - from: worker
      to: judge  # the judge decides
variables:
  rounds:
    type: integer
    default: 3

components:
  # The first one speaks first.
  - name: intro
    prompt: |
      Say hello.

  - name: body   # the main part
    prompt: Work.

  - name: outro
    prompt: Say goodbye.
`;

function edit(change: (data: Record<string, unknown>) => Record<string, unknown>) {
  const doc = parsed(FIXTURE);
  doc.applyObject(change(structuredClone(doc.data)));
  const text = doc.toString();
  return { text, changes: changedLines(FIXTURE, text), data: parsed(text).data };
}

/** Every comment line and trailing comment of the fixture still in `text`, unless on a line that changed. */
function expectCommentsKept(text: string, except: string[] = []) {
  for (const line of FIXTURE.split("\n")) {
    if (!line.includes("#") || except.includes(line)) continue;
    expect(text.split("\n")).toContain(line);
  }
}

describe("YamlDocument.applyObject changes only what differs", () => {
  it("nothing changed: the text is exactly the original", () => {
    expect(edit((d) => d).text).toBe(FIXTURE);
  });

  it("one scalar: one line changes, its trailing comment stays", () => {
    const { changes, data, text } = edit((d) => ({ ...d, version: "1.1.0" }));
    expect(changes).toEqual({ removed: ["version: 1.0.0  # bumped by hand"], added: ["version: 1.1.0  # bumped by hand"] });
    expect(data.version).toBe("1.1.0");
    expectCommentsKept(text, ["version: 1.0.0  # bumped by hand"]);
  });

  it("a string with a trailing comment keeps the comment", () => {
    const { changes } = edit((d) => ({ ...d, description: "Another description" }));
    expect(changes.removed).toEqual(["description: A demo pattern   # keep this note"]);
    expect(changes.added).toEqual(["description: Another description   # keep this note"]);
  });

  it("a new key is appended; nothing else moves", () => {
    const { changes, data, text } = edit((d) => ({ ...d, owner: "team-a" }));
    expect(changes).toEqual({ removed: [], added: ["owner: team-a"] });
    expect(text.endsWith("owner: team-a\n")).toBe(true);
    expect(Object.keys(data)).toEqual([...Object.keys(parsed(FIXTURE).data), "owner"]);
  });

  it("a new nested key goes at the end of its own map", () => {
    const { changes, data } = edit((d) => ({ ...d, metadata: { ...(d.metadata as object), owner: "team-a" } }));
    expect(changes).toEqual({ removed: [], added: ["  owner: team-a"] });
    expect(Object.keys(data.metadata as object)).toEqual(["tags", "selection_criteria", "use_cases", "owner"]);
  });

  it("a removed key takes only its own lines", () => {
    const { changes, data, text } = edit((d) => {
      delete d.author;
      return d;
    });
    expect(changes).toEqual({ removed: ["author: someone"], added: [] });
    expect(data).not.toHaveProperty("author");
    expectCommentsKept(text);
  });

  it("a removed section takes only its own lines", () => {
    const { changes, data } = edit((d) => {
      delete d.routing;
      return d;
    });
    expect(changes.added).toEqual([]);
    // The blank line above the section goes with it.
    expect(changes.removed).toEqual(["", "routing:", "  rules:", "    - from: worker", "      to: judge  # the judge decides"]);
    expect(data.agents).toEqual(parsed(FIXTURE).data.agents);
  });

  it("a removed map whose key line has a comment takes that line too (not left as `key:   # why`, a null)", () => {
    const text = "name: a\nperformance:   # measured over fifty runs\n  runs: 50\n  avg_score: 0.9\nlearnings:\n  - insight: x  # kept\n";
    const doc = parsed(text);
    const rest = { ...doc.data };
    delete rest.performance;
    doc.applyObject(rest);
    expect(doc.toString()).toBe("name: a\nlearnings:\n  - insight: x  # kept\n");
    const kept = parsed(text);
    kept.applyObject({ ...kept.data, name: "b" });
    expect(kept.toString()).toBe(text.replace("name: a", "name: b"));
  });

  it("a flow list stays inline", () => {
    const { changes, data, text } = edit((d) => ({ ...d, metadata: { ...(d.metadata as object), tags: ["alpha", "beta", "gamma"] } }));
    expect(changes).toEqual({ removed: ["  tags: [alpha, beta]"], added: ["  tags: [alpha, beta, gamma]"] });
    expect((data.metadata as { tags: string[] }).tags).toEqual(["alpha", "beta", "gamma"]);
    expectCommentsKept(text);
  });

  it("a block list stays a block list", () => {
    const { changes } = edit((d) => ({ ...d, metadata: { ...(d.metadata as object), use_cases: ["first use", "third use"] } }));
    expect(changes).toEqual({ removed: ["    - second use"], added: ["    - third use"] });
  });

  it("a change deep in a map touches one line", () => {
    const { changes, data, text } = edit((d) => {
      const criteria = (d.metadata as { selection_criteria: Record<string, unknown> }).selection_criteria;
      criteria.latency = "high";
      return d;
    });
    expect(changes).toEqual({ removed: ["    latency: low  # fast enough"], added: [expect.stringMatching(/^ {4}latency: high +# fast enough$/)] });
    expect((data.metadata as { selection_criteria: unknown }).selection_criteria).toEqual({ participants: { min: 2, max: 8 }, latency: "high" });
    expectCommentsKept(text, ["    latency: low  # fast enough"]);
  });

  it("a change inside an inline map keeps it inline", () => {
    const { changes } = edit((d) => {
      (d.metadata as { selection_criteria: { participants: { min: number } } }).selection_criteria.participants.min = 3;
      return d;
    });
    expect(changes).toEqual({ removed: ["    participants: {min: 2, max: 8}"], added: ["    participants: {min: 3, max: 8}"] });
  });

  it("a change in a variable's default touches one line", () => {
    const { changes } = edit((d) => ({ ...d, variables: { rounds: { type: "integer", default: 5 } } }));
    expect(changes).toEqual({ removed: ["    default: 3"], added: ["    default: 5"] });
  });

  it("a changed list item is edited in place; comments and blank lines between items stay", () => {
    const { changes, text } = edit((d) => {
      (d.components as { prompt: string }[])[1]!.prompt = "Work harder.";
      return d;
    });
    expect(changes).toEqual({ removed: ["    prompt: Work."], added: ["    prompt: Work harder."] });
    expectCommentsKept(text);
  });

  it("a scalar list item changes alone, keeping the other items' comments", () => {
    const { changes } = edit((d) => {
      (d.metadata as { use_cases: string[] }).use_cases[0] = "changed use";
      return d;
    });
    expect(changes).toEqual({ removed: ["    - first use"], added: ["    - changed use"] });
  });

  it("an appended list item adds only its lines", () => {
    const { changes, data } = edit((d) => {
      (d.components as unknown[]).push({ name: "extra", prompt: "More." });
      return d;
    });
    expect(changes).toEqual({ removed: [], added: ["  - name: extra", "    prompt: More."] });
    expect((data.components as { name: string }[]).map((c) => c.name)).toEqual(["intro", "body", "outro", "extra"]);
  });

  it("a removed list item takes only its lines", () => {
    const { changes, text } = edit((d) => {
      (d.components as unknown[]).splice(1, 1);
      return d;
    });
    expect(changes.added).toEqual([]);
    expect(changes.removed.filter((line) => line !== "")).toEqual(["  - name: body   # the main part", "    prompt: Work."]);
    expect(text).toContain("  # The first one speaks first.\n  - name: intro");
  });

  it("an item inserted in the middle of a list adds only its lines", () => {
    const { changes } = edit((d) => {
      (d.components as unknown[]).splice(1, 0, { name: "middle", prompt: "Between." });
      return d;
    });
    expect(changes).toEqual({ removed: [], added: ["  - name: middle", "    prompt: Between."] });
  });

  it("unknown sections survive a change elsewhere exactly as written, block scalar included", () => {
    const { text } = edit((d) => ({ ...d, version: "2.0.0", description: "changed", owner: "x" }));
    const section = (t: string) => t.slice(t.indexOf("# Not a core field"), t.indexOf("variables:"));
    expect(section(text)).toBe(section(FIXTURE));
    expect(section(FIXTURE)).toContain("routing:");
  });

  it("several changes at once touch exactly their lines", () => {
    const { changes, data } = edit((d) => {
      delete d.author;
      return { ...d, version: "1.2.0", metadata: { ...(d.metadata as object), tags: ["alpha"] }, extra: { a: 1 } };
    });
    expect(changes.removed).toEqual(["version: 1.0.0  # bumped by hand", "author: someone", "  tags: [alpha, beta]"]);
    expect(changes.added).toEqual([expect.stringMatching(/^version: 1\.2\.0/), "  tags: [alpha]", "extra:", "  a: 1"]);
    expect(data.extra).toEqual({ a: 1 });
  });

  it("a scalar that becomes a map, and a map that becomes a scalar", () => {
    const { data } = edit((d) => ({ ...d, author: { name: "x", team: "y" }, routing: "none" }));
    expect(data.author).toEqual({ name: "x", team: "y" });
    expect(data.routing).toBe("none");
    expect(data.agents).toEqual(parsed(FIXTURE).data.agents);
  });
});

describe("YamlDocument.applyObject on lists written as PyYAML (KSI) writes them, items not indented", () => {
  const ksi = ["name: r", "# a comment", "metadata:", "  tags:", "  - relay", "  forks:", "  - name: a", "    reason: x", "other: [1, 2]", ""].join("\n");

  it.each<[string, (data: Record<string, unknown>) => void, string[]]>([
    [
      "an item appended to a nested list",
      (data) => ((data.metadata as { forks: unknown[] }).forks.push({ name: "b", reason: "y" })),
      ["name: r", "# a comment", "metadata:", "  tags:", "  - relay", "  forks:", "  - name: a", "    reason: x", "  - name: b", "    reason: y", "other: [1, 2]", ""],
    ],
    [
      "an item appended to a list before another key of its map",
      (data) => ((data.metadata as { tags: unknown[] }).tags.push("baton")),
      ["name: r", "# a comment", "metadata:", "  tags:", "  - relay", "  - baton", "  forks:", "  - name: a", "    reason: x", "other: [1, 2]", ""],
    ],
  ])("%s keeps the file's style and reads back as the data (it wrote `- item` under `  - item` before)", (_label, edit, lines) => {
    const parsed = YamlDocument.parse(ksi);
    if (!parsed.ok) throw new Error("fixture does not parse");
    const data = structuredClone(parsed.document.data);
    edit(data);
    parsed.document.applyObject(data);
    const text = parsed.document.toString();
    expect(text.split("\n")).toEqual(lines);
    expect(readData(text)).toEqual({ ok: true, data });
  });
});

describe("YamlDocument.withListItem splices an item into a top-level list", () => {
  const entry = { name: "f2", version: "0.1.0", reason: "try: a \"quoted\" # not a comment\n- second line" };
  const withItem = (text: string, item: unknown = entry) => parsed(text).withListItem("forks", item);

  it("appends after the last item at the list's own indentation; every other byte stays", () => {
    const text = "name: p   # the name\nforks:\n  - name: f1   # first\n    version: 0.1.0\n\n# about merges\nmerges: []\n";
    const out = withItem(text)!;
    expect(out.startsWith("name: p   # the name\nforks:\n  - name: f1   # first\n    version: 0.1.0\n  - name: f2\n")).toBe(true);
    expect(out.endsWith("\n\n# about merges\nmerges: []\n")).toBe(true);
    expect(changedLines(text, out).removed).toEqual([]);
    expect(parsed(out).data.forks).toEqual([{ name: "f1", version: "0.1.0" }, entry]);
  });

  it("a list at column 0 gets its item at column 0", () => {
    const out = withItem("forks:\n- name: f1\nname: p\n")!;
    expect(out).toMatch(/^forks:\n- name: f1\n- name: f2\n {2}version: 0\.1\.0\n/);
    expect(parsed(out).data).toEqual({ forks: [{ name: "f1" }, entry], name: "p" });
  });

  it("a document without the list gets one at its end, with or without a final newline", () => {
    for (const text of ["name: p\n# last words\n", "name: p"]) {
      const out = withItem(text, "f2")!;
      expect(out).toBe(`${text}${text.endsWith("\n") ? "" : "\n"}forks:\n  - f2\n`);
    }
  });

  it("an item after a last item that ends in a block scalar keeps both values", () => {
    const text = "forks:\n  - name: f1\n    reason: |\n      one\n      two\n\nname: p\n";
    const out = withItem(text)!;
    expect(parsed(out).data.forks).toEqual([{ name: "f1", reason: "one\ntwo\n" }, entry]);
    expect(out.endsWith("\n\nname: p\n")).toBe(true);
  });

  it("gives null (the caller edits the Document) for anything but a non-empty block list, or an edited document", () => {
    expect(withItem("forks: [f1]\n")).toBeNull();
    expect(withItem("forks:\n")).toBeNull();
    expect(withItem("forks: f1\n")).toBeNull();
    expect(withItem("forks: {a: 1}\n")).toBeNull();
    const edited = parsed("forks:\n  - f1\n");
    edited.set(["name"], "p");
    expect(edited.withListItem("forks", "f2")).toBeNull();
    expect(YamlDocument.fromObject({ forks: ["f1"] }).withListItem("forks", "f2")).toBeNull();
  });

  it("gives null when the splice would not read back as the list plus the item", () => {
    // A last item with kept trailing blank lines: the item would be read as part of the scalar's end or shift it.
    const text = "forks:\n  - reason: |+\n      kept\n\n\nname: p\n";
    const out = withItem(text);
    if (out !== null) expect(parsed(out).data.forks).toEqual([{ reason: "kept\n\n\n" }, entry]);
    // The bundled library: every pattern takes two fork entries (a new list, then one more) and reads back as itself plus them.
    const library = ["compositions", "profiles"].flatMap((dir) =>
      readdirSync(join(REPO, dir))
        .filter((file) => file.endsWith(".yaml") && !file.endsWith("_decisions.yaml"))
        .map((file) => readFileSync(join(REPO, dir, file), "utf8")),
    );
    expect(library.length).toBeGreaterThanOrEqual(20);
    for (const original of library) {
      const before = parsed(original).data;
      const once = parsed(original).withListItem("forks", "f1");
      const twice = once === null ? null : parsed(once).withListItem("forks", entry);
      expect(twice).not.toBeNull();
      expect(changedLines(original, twice!).removed).toEqual([]);
      expect(parsed(twice!).data).toEqual({ ...before, forks: [...((before.forks as unknown[] | undefined) ?? []), "f1", entry] });
    }
  });
});

describe("YamlDocument get / set / delete by path", () => {
  it.each([
    [["name"], "demo"],
    [["metadata", "tags"], ["alpha", "beta"]],
    [["metadata", "selection_criteria", "participants", "max"], 8],
    [["agents", "0", "id"], "worker"],
    [["agents", "0", "prompt"], "Do the thing.\n  Keep this indentation.\n"],
    [["routing", "rules", "0"], { from: "worker", to: "judge" }],
    [["missing"], undefined],
    [["metadata", "missing", "deeper"], undefined],
    [["agents", "5", "id"], undefined],
  ])("get %j", (path, value) => {
    expect(parsed(FIXTURE).get(path)).toEqual(value);
  });

  it("set replaces a value, keeps its trailing comment, and data follows", () => {
    const doc = parsed(FIXTURE);
    expect(doc.data.version).toBe("1.0.0");
    doc.set(["version"], "1.0.1");
    expect(doc.data.version).toBe("1.0.1");
    expect(changedLines(FIXTURE, doc.toString())).toEqual({
      removed: ["version: 1.0.0  # bumped by hand"],
      added: [expect.stringMatching(/^version: 1\.0\.1 +# bumped by hand$/)],
    });
  });

  it("set creates missing maps along the path", () => {
    const doc = parsed(FIXTURE);
    doc.set(["performance", "scores", "avg"], 0.8);
    expect(doc.get(["performance"])).toEqual({ scores: { avg: 0.8 } });
    expect(parsed(doc.toString()).data.performance).toEqual({ scores: { avg: 0.8 } });
  });

  it("set inside a list item", () => {
    const doc = parsed(FIXTURE);
    doc.set(["agents", "0", "profile"], "critic");
    expect(doc.get(["agents", "0"])).toMatchObject({ id: "worker", profile: "critic" });
    expect(changedLines(FIXTURE, doc.toString())).toEqual({ removed: ["    profile: researcher"], added: ["    profile: critic"] });
  });

  it("delete removes the key and nothing else", () => {
    const doc = parsed(FIXTURE);
    doc.delete(["metadata", "use_cases"]);
    expect(doc.get(["metadata", "use_cases"])).toBeUndefined();
    expect(doc.data.metadata).not.toHaveProperty("use_cases");
    expect(changedLines(FIXTURE, doc.toString())).toEqual({ removed: ["  use_cases:", "    - first use", "    - second use"], added: [] });
  });

  it("get returns plain data that does not write through", () => {
    const doc = parsed(FIXTURE);
    (doc.get(["metadata", "tags"]) as string[]).push("gamma");
    expect(doc.get(["metadata", "tags"])).toEqual(["alpha", "beta"]);
  });
});

describe("readData (the index's read path) gives exactly what the Document parser gives", () => {
  const bundled = ["compositions", "profiles"].flatMap((dir) =>
    readdirSync(join(REPO, dir))
      .filter((file) => file.endsWith(".yaml") && !file.endsWith("_decisions.yaml"))
      .map((file) => readFileSync(join(REPO, dir, file), "utf8")),
  );
  const scalars = ["0x1F", "0o17", "017", "1_000", "+1", "1e3", ".5", ".inf", "-.Inf", ".NaN", "~", "Null", "TRUE", "yes", "on", "2026-01-01", "12:30", "0b101", "'x'", '"a\\tb"', "|\n  a\n  b", ">-\n  a\n\n  b", "[1, 2]", "{a: 1}", "x #c"];
  const documents = [
    ...bundled,
    ...scalars.map((value) => `k: ${value}\n`),
    "? [a]\n: 1\n",
    "a: &x [1, 2]\nb: *x\n",
    "a: !!str 12\n",
    "__proto__: {polluted: 1}\n",
  ];

  it.each(documents.map((text, i) => [i, text]))("document %i", (_, text) => {
    const fast = readData(text);
    const full = YamlDocument.parse(text);
    expect(fast.ok).toBe(full.ok);
    if (fast.ok && full.ok) expect(fast.data).toStrictEqual(full.document.data);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("refuses what the Document parser refuses, with the same messages", () => {
    for (const text of ["a: 1\na: 2\n", "a: [1, 2\n", "k: !custom x\n", aliasBomb(), "- just a list\n", documentOfSize(MAX_DOCUMENT_BYTES + 1)]) {
      const fast = readData(text);
      const full = YamlDocument.parse(text);
      expect(fast.ok).toBe(false);
      expect(full.ok).toBe(false);
      if (!fast.ok && !full.ok) expect(fast.issues).toEqual(full.issues);
    }
  });
});

describe("a CRLF file stays CRLF (issue 24: an edit came back with mixed endings)", () => {
  const CRLF = FIXTURE.replace(/\n/g, "\r\n");
  /** Every line ends in CRLF, and the text reads as the LF edit does. */
  function expectCrlfThroughout(text: string, sameAsLf: string) {
    expect(text.replace(/\r\n/g, "")).not.toContain("\n");
    expect(text.replace(/\r\n/g, "\n")).toBe(sameAsLf);
  }

  it.each<[string, (d: Record<string, unknown>) => Record<string, unknown>]>([
    ["one scalar", (d) => ({ ...d, version: "1.1.0" })],
    ["a new key", (d) => ({ ...d, added: { deep: [1, 2] } })],
    ["a removed section", (d) => Object.fromEntries(Object.entries(d).filter(([key]) => key !== "variables"))],
    ["a list item edited", (d) => ({ ...d, components: (d.components as Record<string, unknown>[]).map((c, i) => (i === 0 ? { ...c, prompt: "Changed." } : c)) })],
  ])("%s: the edit is written with CRLF throughout", (_label, change) => {
    const lf = parsed(FIXTURE);
    lf.applyObject(change(structuredClone(lf.data)));
    const crlf = parsed(CRLF);
    crlf.applyObject(change(structuredClone(crlf.data)));
    expectCrlfThroughout(crlf.toString(), lf.toString());
    expect(parsed(crlf.toString()).data).toEqual(parsed(lf.toString()).data);
  });

  it("set and delete by path too", () => {
    const doc = parsed(CRLF);
    doc.set(["metadata", "owner"], "someone");
    doc.delete(["description"]);
    const text = doc.toString();
    expect(text.replace(/\r\n/g, "")).not.toContain("\n");
    expect(parsed(text).data.metadata).toMatchObject({ owner: "someone" });
  });

  it("an unedited CRLF document is its text, byte for byte", () => {
    expect(parsed(CRLF).toString()).toBe(CRLF);
  });

  it("withListItem on a CRLF file splices with CRLF", () => {
    const out = parsed("name: p\r\nforks:\r\n  - name: f1\r\n    version: 0.1.0\r\nmerges: []\r\n").withListItem("forks", { name: "f2", version: "0.1.0" })!;
    expect(out).toBe("name: p\r\nforks:\r\n  - name: f1\r\n    version: 0.1.0\r\n  - name: f2\r\n    version: 0.1.0\r\nmerges: []\r\n");
  });

  it("an LF file stays LF", () => {
    const doc = parsed(FIXTURE);
    doc.set(["version"], "2.0.0");
    expect(doc.toString()).not.toContain("\r");
  });
});
