import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { silentLog } from "../../../core/log.js";
import { MAX_DOCUMENT_BYTES } from "../model/document.js";
import { Catalog, textIdOf } from "./catalog.js";
import { StoreFiles } from "./files.js";
import { RACY_MS } from "./listing.js";

let store: string;
let catalog: Catalog;

beforeEach(async () => {
  store = await mkdtemp(join(tmpdir(), "patternd-catalog-"));
  catalog = new Catalog(new StoreFiles(store), silentLog());
});
afterEach(async () => {
  await rm(store, { recursive: true, force: true });
});

function yaml(name: string, { type = "orchestration", version = "1.0.0", description = `about ${name}`, extra = "" } = {}): string {
  return `name: ${name}\ntype: ${type}\nversion: ${version}\ndescription: ${description}\n${extra}`;
}

function put(path: string, text: string): void {
  mkdirSync(dirname(join(store, path)), { recursive: true });
  writeFileSync(join(store, path), text);
}

const names = () => catalog.list().map((e) => `${e.name}@${e.version}`);
const invalidPaths = () => catalog.invalid().map((f) => f.path);

describe("Catalog.read", () => {
  it("reads a valid file into an entry", () => {
    const text = yaml("x", { extra: "# comment\nagents: [a]\n" });
    expect(Catalog.read("orchestrations/x.yaml", text)).toEqual({
      ok: true,
      entry: {
        name: "x",
        type: "orchestration",
        version: "1.0.0",
        description: "about x",
        path: "orchestrations/x.yaml",
        textId: textIdOf(text),
        data: { name: "x", type: "orchestration", version: "1.0.0", description: "about x", agents: ["a"] },
        warnings: [],
      },
    });
  });

  it.each([
    // KSI's layouts: a file wherever it is, markdown front matter, component_type, nulls for absent, a text DSL.
    ["a type in another folder", "capabilities/agent_messaging.yaml", yaml("agent_messaging", { type: "capability" }), { type: "capability" }, []],
    ["a pattern at the top and one deep down", "components/agents/deep/x.yml", yaml("x", { type: "agent" }), { type: "agent" }, []],
    ["a markdown component", "components/agents/x.md", `---\n${yaml("x", { type: "agent" })}---\n# X\n\nYou are x.\n`, { type: "agent" }, []],
    ["KSI's component_type", "components/p.md", "---\ncomponent_type: persona\nname: p\nversion: 1.0.0\ndescription: d\n---\nbody", { type: "persona" }, []],
    ["nulls for absent fields", "orchestrations/x.yaml", yaml("x", { extra: "extends: null\nauthor: null\nperformance:\n  success_rate: null\n  runs: 3\n" }), {}, []],
    ["a text orchestration_logic", "orchestrations/x.yaml", yaml("x", { extra: "orchestration_logic: |\n  STATE x\n  EVENT y\n" }), {}, []],
    ["an unknown type with free-form sections", "evaluations/x.yaml", yaml("x", { type: "evaluation", extra: "components: [a, b]\nmetadata: [free]\n" }), { type: "evaluation" }, []],
    ["a name other than the file name", "orchestrations/y.yaml", yaml("x"), {}, [{ path: "name", message: "the name x differs from the file name y (orchestrations/y.yaml); the pattern is called x" }]],
    ["no description", "components/agents/x.md", "---\ncomponent_type: agent\nname: x\nversion: 1.0.0\n---\n", { description: "" }, [{ path: "description", message: expect.stringMatching(/^no description/) }]],
  ])("indexes %s", (_label, path, text, fields, warnings) => {
    const result = Catalog.read(path, text);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    expect(result.entry).toMatchObject({ path, textId: textIdOf(text), ...fields });
    expect(result.entry.warnings).toEqual(warnings);
  });

  it.each([
    ["markdown without front matter", "README.md", "# Compositions\n\nname: x\n", "no_front_matter"],
    ["markdown whose front matter never closes", "components/x.md", "---\nname: x\n", "no_front_matter"],
    ["YAML with neither type nor component_type", "config/settings.yaml", "name: settings\nlevel: 3\n", "not_a_composition"],
    ["front matter with neither type nor component_type", "docs/guide.md", "---\ntitle: Guide\n---\ntext", "not_a_composition"],
  ])("leaves out %s as not a composition, with its reason", (_label, path, text, reason) => {
    expect(Catalog.read(path, text)).toMatchObject({ ok: false, issues: [], ignored: { reason } });
  });

  it.each([
    ["a type without a name", "components/x.md", "---\ntype: persona\nmixins: [a]\n---\n", "name", /name is required/],
    ["front matter that does not parse", "components/x.md", "---\nname: [x\ntype: agent\n---\n", "", /line \d+, column \d+/],
    ["YAML that does not parse", "orchestrations/x.yaml", "name: [x\n", "", /line \d+, column \d+/],
    ["a document that does not validate", "orchestrations/x.yaml", yaml("x", { version: "one" }), "version", /semantic version/],
    ["a custom tag", "orchestrations/x.yaml", yaml("x", { extra: "run: !!js/function f\n" }), "", /tag/],
  ])("refuses %s", (_label, path, text, issuePath, message) => {
    const result = Catalog.read(path, text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]!.path).toBe(issuePath);
    expect(result.issues[0]!.message).toMatch(message);
  });
});

describe("Catalog.reconcile", () => {
  it("indexes <type>s/<name>.yaml files and lists them by name, optionally by type", () => {
    put("orchestrations/b.yaml", yaml("b"));
    put("orchestrations/a.yaml", yaml("a"));
    put("profiles/p.yaml", yaml("p", { type: "profile" }));
    put("prompts/q.yaml", yaml("q", { type: "prompt" }));
    const result = catalog.reconcile();
    expect(result).toEqual({ indexed: 4, invalid: [], ignored: [], warnings: [], changed: expect.any(Array) as unknown });
    expect(result.changed.sort()).toEqual(["orchestrations/a.yaml", "orchestrations/b.yaml", "profiles/p.yaml", "prompts/q.yaml"]);
    expect(names()).toEqual(["a@1.0.0", "b@1.0.0", "p@1.0.0", "q@1.0.0"]);
    expect(catalog.list("profile").map((e) => e.name)).toEqual(["p"]);
    expect(catalog.list("nothing")).toEqual([]);
    expect(catalog.get("p")).toMatchObject({ type: "profile", path: "profiles/p.yaml", description: "about p" });
    expect(catalog.size).toBe(4);
  });

  it("accounts for every file: indexed at any depth, invalid with issues, ignored with a reason, warnings", () => {
    put("orchestrations/a.yaml", yaml("a"));
    put("orchestrations/a_decisions.yaml", "- decision: x\n");
    put("orchestrations/notes.txt", "hello");
    put("orchestrations/Upper.yaml", yaml("Upper"));
    put("orchestrations/.a.yaml.123.tmp", yaml("a", { version: "9.0.0" }));
    put(".hidden/h.yaml", yaml("h", { type: "hidden" }));
    put(".gitignore", "*.tmp\n");
    put(".git/x.yaml", yaml("x", { type: "git" }));
    put("top.yaml", yaml("top"));
    put("orchestrations/deeper/d.yml", yaml("d", { extra: "extends: never_was\n" }));
    put("components/agents/m.md", `---\n${yaml("m", { type: "agent" })}---\nbody\n`);
    put("README.md", "# read me\n");
    put("data/runs.jsonl", "{}\n");
    const result = catalog.reconcile();
    expect(result).toEqual({
      indexed: 4,
      invalid: [{ path: "orchestrations/Upper.yaml", issues: [{ path: "name", message: expect.stringMatching(/lower-case/) }] }],
      ignored: [
        { path: ".gitignore", reason: "hidden", message: expect.any(String) },
        { path: ".hidden/", reason: "hidden", message: expect.any(String) },
        { path: "README.md", reason: "no_front_matter", message: expect.any(String) },
        { path: "data/runs.jsonl", reason: "other_file", message: "not a .yaml, .yml or .md file" },
        { path: "orchestrations/.a.yaml.123.tmp", reason: "hidden", message: expect.any(String) },
        { path: "orchestrations/a_decisions.yaml", reason: "decision_log", message: expect.any(String) },
        { path: "orchestrations/notes.txt", reason: "other_file", message: expect.any(String) },
      ],
      warnings: [{ path: "orchestrations/deeper/d.yml", message: "extends: extends never_was, which is not in the store: compose fails until it is" }],
      changed: expect.any(Array) as unknown,
    });
    expect(names()).toEqual(["a@1.0.0", "d@1.0.0", "m@1.0.0", "top@1.0.0"]);
    expect(catalog.folders()).toEqual(expect.arrayContaining(["", "orchestrations", "orchestrations/deeper", "components", "components/agents", "data"]));
    // Every file of the store, once (.git is git's).
    expect(result.indexed + result.invalid.length + result.ignored.length).toBe(12);
    // The parent arrives: the warning goes, with no change to the child's file.
    put("orchestrations/never_was.yaml", yaml("never_was"));
    expect(catalog.reconcile().warnings).toEqual([]);
  });

  it("an empty or missing store indexes nothing", () => {
    expect(catalog.reconcile()).toEqual({ indexed: 0, invalid: [], ignored: [], warnings: [], changed: [] });
    const missing = new Catalog(new StoreFiles(join(store, "missing")), silentLog());
    expect(missing.reconcile()).toEqual({ indexed: 0, invalid: [], ignored: [], warnings: [], changed: [] });
  });

  it("picks up a hand-written file, a hand edit and a deletion", () => {
    put("orchestrations/a.yaml", yaml("a"));
    catalog.reconcile();
    put("orchestrations/new.yaml", yaml("new"));
    catalog.reconcile();
    expect(names()).toEqual(["a@1.0.0", "new@1.0.0"]);
    put("orchestrations/a.yaml", yaml("a", { version: "1.1.0", description: "edited by hand" }));
    expect(catalog.reconcile().changed).toEqual(["orchestrations/a.yaml"]);
    expect(catalog.get("a")).toMatchObject({ version: "1.1.0", description: "edited by hand" });
    unlinkSync(join(store, "orchestrations", "new.yaml"));
    expect(catalog.reconcile()).toEqual({ indexed: 1, invalid: [], ignored: [], warnings: [], changed: ["orchestrations/new.yaml"] });
    expect(catalog.get("new")).toBeUndefined();
  });

  it("reports an invalid edit while the last good version keeps serving, until it is fixed", () => {
    put("orchestrations/a.yaml", yaml("a"));
    catalog.reconcile();
    put("orchestrations/a.yaml", "name: a\ntype: orchestration\nversion: [broken\n");
    const result = catalog.reconcile();
    expect(result.indexed).toBe(1);
    expect(result.invalid).toEqual([{ path: "orchestrations/a.yaml", issues: [expect.objectContaining({ message: expect.stringMatching(/line \d+/) as unknown })] }]);
    expect(catalog.get("a")).toMatchObject({ version: "1.0.0", description: "about a" });
    put("orchestrations/a.yaml", yaml("a", { version: "1.0.1" }));
    expect(catalog.reconcile()).toEqual({ indexed: 1, invalid: [], ignored: [], warnings: [], changed: ["orchestrations/a.yaml"] });
    expect(catalog.get("a")?.version).toBe("1.0.1");
  });

  it("an invalid file that is deleted is no longer reported, and its pattern is gone", () => {
    put("orchestrations/a.yaml", yaml("a"));
    catalog.reconcile();
    put("orchestrations/a.yaml", yaml("a", { version: "bad" }));
    expect(invalidPaths()).toEqual([]);
    catalog.reconcile();
    expect(invalidPaths()).toEqual(["orchestrations/a.yaml"]);
    unlinkSync(join(store, "orchestrations", "a.yaml"));
    expect(catalog.reconcile()).toEqual({ indexed: 0, invalid: [], ignored: [], warnings: [], changed: ["orchestrations/a.yaml"] });
  });

  it("a new invalid file is reported and not served", () => {
    put("orchestrations/a.yaml", yaml("a", { extra: "name: twice\n" }));
    put("orchestrations/big.yaml", `${yaml("big")}pad: ${"x".repeat(MAX_DOCUMENT_BYTES)}\n`);
    put("orchestrations/wrong.yaml", yaml("Other"));
    const result = catalog.reconcile();
    expect(result.indexed).toBe(0);
    expect(result.invalid.map((f) => f.path).sort()).toEqual(["orchestrations/a.yaml", "orchestrations/big.yaml", "orchestrations/wrong.yaml"]);
    expect(result.invalid.find((f) => f.path === "orchestrations/big.yaml")!.issues[0]!.message).toMatch(/limit/);
  });

  it("links are listed as ignored (unsafe_path, with their target), never followed: a pattern file, a folder, a decision log", () => {
    const outside = `${store}-outside`;
    mkdirSync(outside);
    writeFileSync(join(outside, "s.yaml"), yaml("s"));
    writeFileSync(join(outside, "g.yaml"), yaml("g", { type: "gadget" }));
    put("orchestrations/x.yaml", yaml("x"));
    symlinkSync(join(outside, "s.yaml"), join(store, "orchestrations", "s.yaml"));
    symlinkSync(join(outside, "s.yaml"), join(store, "orchestrations", "x_decisions.yaml"));
    symlinkSync(outside, join(store, "gadgets"));
    try {
      const result = catalog.reconcile();
      expect(names()).toEqual(["x@1.0.0"]);
      expect(result.invalid).toEqual([]);
      expect(result.ignored).toEqual([
        { path: "gadgets", reason: "unsafe_path", target: outside, message: expect.stringMatching(/^gadgets is a symbolic link to /) },
        { path: "orchestrations/s.yaml", reason: "unsafe_path", target: join(outside, "s.yaml"), message: expect.stringMatching(/never reads or writes through a link/) },
        { path: "orchestrations/x_decisions.yaml", reason: "unsafe_path", target: join(outside, "s.yaml"), message: expect.any(String) },
      ]);
      // A link that replaces an indexed file takes its pattern out of the index; removing the link brings nothing back by itself.
      unlinkSync(join(store, "orchestrations", "x.yaml"));
      symlinkSync(join(outside, "s.yaml"), join(store, "orchestrations", "x.yaml"));
      expect(catalog.reconcile().ignored.map((i) => i.path)).toContain("orchestrations/x.yaml");
      expect(names()).toEqual([]);
      unlinkSync(join(store, "gadgets"));
      expect(catalog.reconcile().ignored.map((i) => i.path)).not.toContain("gadgets");
    } finally {
      rmSync(outside, { recursive: true });
    }
  });

  it("two files claiming one name across types: one is served, the other reported", () => {
    put("orchestrations/x.yaml", yaml("x"));
    put("profiles/x.yaml", yaml("x", { type: "profile" }));
    const result = catalog.reconcile();
    expect(result.indexed).toBe(1);
    expect(result.invalid).toHaveLength(1);
    expect(result.invalid[0]!.issues[0]!.message).toMatch(/already used by .*unique across types/);
    expect([catalog.get("x")!.path, result.invalid[0]!.path].sort()).toEqual(["orchestrations/x.yaml", "profiles/x.yaml"]);
  });

  it("a later file claiming an indexed name is reported, whichever folder sorts first", () => {
    put("profiles/x.yaml", yaml("x", { type: "profile" }));
    catalog.reconcile();
    // "agents" sorts before "profiles": the newcomer is read first in the next scan.
    put("agents/x.yaml", yaml("x", { type: "agent" }));
    const result = catalog.reconcile();
    expect(catalog.get("x")).toMatchObject({ type: "profile", path: "profiles/x.yaml" });
    expect(result.invalid).toEqual([{ path: "agents/x.yaml", issues: [expect.objectContaining({ message: expect.stringMatching(/already used by profiles\/x.yaml/) as unknown })] }]);
    // Once the first owner is gone, the other file takes the name.
    unlinkSync(join(store, "profiles", "x.yaml"));
    put("agents/x.yaml", yaml("x", { type: "agent", version: "1.0.1" }));
    expect(catalog.reconcile()).toEqual({ indexed: 1, invalid: [], ignored: [], warnings: [], changed: ["agents/x.yaml", "profiles/x.yaml"] });
    expect(catalog.get("x")).toMatchObject({ type: "agent", version: "1.0.1" });
  });

  it("a pattern moved to another type folder by hand follows its file", () => {
    put("orchestrations/x.yaml", yaml("x"));
    catalog.reconcile();
    unlinkSync(join(store, "orchestrations", "x.yaml"));
    put("profiles/x.yaml", yaml("x", { type: "profile" }));
    expect(catalog.reconcile()).toEqual({ indexed: 1, invalid: [], ignored: [], warnings: [], changed: ["profiles/x.yaml", "orchestrations/x.yaml"] });
    expect(catalog.get("x")).toMatchObject({ type: "profile", path: "profiles/x.yaml" });
  });

  it("a reconcile right after another re-reads nothing and reports the same", () => {
    put("orchestrations/a.yaml", yaml("a"));
    const first = catalog.reconcile();
    const revision = catalog.revision;
    expect(catalog.reconcile()).toEqual({ ...first, changed: [] });
    expect(catalog.revision).toBe(revision);
  });

  it("an edit that keeps the file's size and mtime is seen (its ctime moved); entries whose text is unchanged are kept", () => {
    const aPath = join(store, "orchestrations", "a.yaml");
    // A whole second, which every file system keeps exactly.
    const mtime = new Date("2024-01-01T00:00:00Z");
    put("orchestrations/a.yaml", yaml("a", { version: "1.0.0" }));
    utimesSync(aPath, mtime, mtime);
    put("orchestrations/b.yaml", yaml("b"));
    put("notes/readme.md", "# just a document\n");
    const first = catalog.reconcile();
    const [a, b] = [catalog.get("a"), catalog.get("b")];
    const revision = catalog.revision;
    // Nothing changed: nothing is parsed again, nothing reported, the index's revision (discover's columns, the cache) stays.
    expect(catalog.reconcile()).toEqual({ ...first, changed: [] });
    expect(catalog.get("a")).toBe(a);
    expect(catalog.get("b")).toBe(b);
    expect(catalog.revision).toBe(revision);
    // The same size and mtime, other text (before: only a full reconcile, which read every file, saw it).
    put("orchestrations/a.yaml", yaml("a", { version: "9.9.9" }));
    utimesSync(aPath, mtime, mtime);
    expect(catalog.reconcile().changed).toEqual(["orchestrations/a.yaml"]);
    expect(catalog.get("a")?.version).toBe("9.9.9");
    expect(catalog.get("b")).toBe(b);
    expect(catalog.revision).toBeGreaterThan(revision);
  });

  it("with nothing changed, a reconcile reads no file once their states are settled (it lists and lstats, as a store of 100 000 needs)", () => {
    // Files of 40 KB, so reading them would show in the process's read count whatever else the test runner reads.
    const filler = `notes: "${"x".repeat(40_000)}"\n`;
    for (let i = 0; i < 50; i++) put(`orchestrations/p${i}.yaml`, yaml(`p${i}`, { extra: filler }));
    catalog.reconcile();
    // Listed five seconds later, as a reload would be: the states taken then are not racy (listing.ts).
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 5_000);
    try {
      catalog.reconcile();
      const before = bytesRead();
      expect(catalog.reconcile()).toMatchObject({ indexed: 50, changed: [] });
      // Reading every file again (what a reload did) is 2 MB.
      expect(bytesRead() - before).toBeLessThan(500_000);
      // An edit is still seen, of course.
      put("orchestrations/p7.yaml", yaml("p7", { version: "2.0.0", extra: filler }));
      expect(catalog.reconcile().changed).toEqual(["orchestrations/p7.yaml"]);
      expect(catalog.get("p7")?.version).toBe("2.0.0");
    } finally {
      vi.useRealTimers();
    }
  });

  it("a file whose state was taken within a timestamp tick of a change is read again, though its lstat has not moved (racily clean)", () => {
    put("orchestrations/a.yaml", yaml("a", { version: "1.0.0" }));
    catalog.reconcile();
    const [cached] = catalog.snapshot();
    // What a catalog holds that took the file's state in the same tick as an edit it never read: the old text, the file's state now.
    const edited = new Catalog(new StoreFiles(store), silentLog());
    put("orchestrations/a.yaml", yaml("a", { version: "2.0.0" }));
    const now = new StoreFiles(store).state("orchestrations/a.yaml")!;
    edited.restore([{ entry: cached!.entry, state: { ...now, seenAt: now.ctimeMs } }]);
    expect(edited.reconcile().changed).toEqual(["orchestrations/a.yaml"]);
    expect(edited.get("a")?.version).toBe("2.0.0");
    // Taken well after the edit, the same state proves the file unchanged: it is not read.
    const settled = new Catalog(new StoreFiles(store), silentLog());
    settled.restore([{ entry: cached!.entry, state: { ...now, seenAt: now.ctimeMs + RACY_MS + 1 } }]);
    expect(settled.reconcile().changed).toEqual([]);
    expect(settled.get("a")?.version).toBe("1.0.0");
  });

  it("records a file touched without a change (its new state reported), and re-reads an invalid file put back as it was", () => {
    put("orchestrations/a.yaml", yaml("a"));
    catalog.reconcile();
    const a = catalog.get("a");
    const revision = catalog.revision;
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(store, "orchestrations", "a.yaml"), later, later);
    expect(catalog.reconcile().changed).toEqual(["orchestrations/a.yaml"]);
    expect(catalog.get("a")).toBe(a);
    expect(catalog.revision).toBeGreaterThan(revision);
    expect(catalog.holds(["orchestrations/a.yaml"])).toBe(true);
    // Broken, then put back to the text its served entry holds: no longer invalid.
    put("orchestrations/a.yaml", "name: a\ntype: orchestration\nversion: [broken\n");
    expect(catalog.reconcile().invalid.map((f) => f.path)).toEqual(["orchestrations/a.yaml"]);
    put("orchestrations/a.yaml", yaml("a"));
    expect(catalog.reconcile()).toMatchObject({ indexed: 1, invalid: [], changed: ["orchestrations/a.yaml"] });
    expect(catalog.textOf(catalog.get("a")!)).toBe(yaml("a"));
  });

  it("keeps the parsed data exactly, as values of its own (not slices of the text)", () => {
    const text = yaml("p", { extra: "metadata:\n  ratio: .nan\n  top: .inf\n  __proto__: {polluted: a value long enough to be a slice}\n  note: a string long enough to be a slice of the text\n" });
    const read = Catalog.read("orchestrations/p.yaml", text);
    if (!read.ok) throw new Error(JSON.stringify(read));
    const metadata = read.entry.data.metadata as Record<string, unknown>;
    expect(metadata.ratio).toBeNaN();
    expect(metadata.top).toBe(Infinity);
    expect(Object.keys(metadata)).toEqual(["ratio", "top", "__proto__", "note"]);
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
    expect(metadata.__proto__).toEqual({ polluted: "a value long enough to be a slice" });
    expect(metadata.note).toBe("a string long enough to be a slice of the text");
  });

  it("keeps no text: textOf reads the file while it holds the entry's text, and says so when it does not", () => {
    put("orchestrations/a.yaml", yaml("a"));
    catalog.reconcile();
    const a = catalog.get("a")!;
    expect(a).not.toHaveProperty("text");
    expect(a.textId).toBe(execFileSync("git", ["hash-object", "--stdin"], { input: yaml("a") }).toString().trim());
    expect(catalog.textOf(a)).toBe(yaml("a"));
    put("orchestrations/a.yaml", "name: a\ntype: orchestration\nversion: [broken\n");
    expect(catalog.textOf(a)).toBeUndefined();
    catalog.reconcile();
    // The last good version keeps serving, with the id of the text it was read from.
    expect(catalog.get("a")).toBe(a);
  });
});

/** Bytes this process has read through read(2) so far (Linux). */
function bytesRead(): number {
  return Number(/^rchar: (\d+)$/m.exec(readFileSync("/proc/self/io", "utf8"))?.[1]);
}

describe("Catalog.put / drop", () => {
  it("put records a document the daemon wrote and clears its invalid report; drop forgets it", () => {
    put("orchestrations/a.yaml", yaml("a", { version: "bad" }));
    catalog.reconcile();
    expect(invalidPaths()).toEqual(["orchestrations/a.yaml"]);
    const read = Catalog.read("orchestrations/a.yaml", yaml("a"));
    if (!read.ok) throw new Error("fixture");
    catalog.put(read.entry);
    expect(invalidPaths()).toEqual([]);
    expect(catalog.get("a")?.version).toBe("1.0.0");
    catalog.drop("a");
    catalog.drop("never-there");
    expect(catalog.get("a")).toBeUndefined();
  });
});
