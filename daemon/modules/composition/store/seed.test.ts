import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DaemonError } from "../../../core/errors.js";
import { silentLog } from "../../../core/log.js";
import { compose } from "../model/compose.js";
import { YamlDocument } from "../model/document.js";
import { parseTrailers } from "../model/trailers.js";
import { Catalog } from "./catalog.js";
import { StoreFiles } from "./files.js";
import { GitRepo } from "./git.js";
import { PatternStore } from "./pattern-store.js";
import { SEED_MARKER, seedStore } from "./seed.js";

const REPO = join(import.meta.dirname, "../../../..");
const BUNDLED = [join(REPO, "compositions"), join(REPO, "profiles")];

let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "patternd-seed-"));
  dir = join(root, "store");
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** git for the test's own checks: no user config, a fixed identity for commits it makes itself. */
function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1" },
  });
}

function seed(bundled: readonly string[] = BUNDLED) {
  return seedStore(new GitRepo(dir), new StoreFiles(dir), bundled, silentLog());
}

/** The bundled patterns as the seed should place them: store path → text, with name and version. */
function bundledPatterns() {
  return BUNDLED.flatMap((folder) =>
    readdirSync(folder)
      .filter((file) => file.endsWith(".yaml") && !file.endsWith("_decisions.yaml"))
      .map((file) => {
        const text = readFileSync(join(folder, file), "utf8");
        const parsed = YamlDocument.parse(text);
        if (!parsed.ok) throw new Error(`${file}: ${JSON.stringify(parsed.issues)}`);
        const { name, type, version } = parsed.document.data as { name: string; type: string; version: string };
        return { file, text, name, version, path: `${type}s/${file}` };
      }),
  );
}

/** A bundled folder of one pattern, for tests about the store rather than the library. */
function smallLibrary(): string {
  const folder = join(root, "small");
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, "one.yaml"), "name: one\ntype: orchestration\nversion: 1.0.0\ndescription: the only one\n");
  return folder;
}

describe("seedStore", () => {
  it("seeds a missing store: one Op: seed commit, every bundled pattern, one tag each, fsck clean", async () => {
    const expected = bundledPatterns();
    expect(await seed()).toBe(expected.length);
    expect(git(dir, "rev-list", "--count", "HEAD").trim()).toBe("1");
    const message = git(dir, "log", "-1", "--format=%B");
    expect(message.split("\n")[0]).toBe(`seed: ${expected.length} starter patterns`);
    expect(parseTrailers(message)).toEqual({ Op: "seed", Patterns: String(expected.length) });
    expect(git(dir, "log", "-1", "--format=%an <%ae>").trim()).toBe("patternd <patternd@patternd>");
    for (const { path, text } of expected) expect(readFileSync(join(dir, path), "utf8"), path).toBe(text);
    const tags = git(dir, "tag", "-l").split("\n").filter((t) => t !== "");
    expect(tags.sort()).toEqual(expected.map((p) => `${p.name}@${p.version}`).sort());
    const head = git(dir, "rev-parse", "HEAD").trim();
    expect(new Set(git(dir, "for-each-ref", "--format=%(objectname)", "refs/tags").trim().split("\n"))).toEqual(new Set([head]));
    expect(git(dir, "fsck", "--strict", "--no-progress")).toBe("");
    expect(git(dir, "status", "--porcelain")).toBe("");
    expect(git(dir, "symbolic-ref", "HEAD").trim()).toBe("refs/heads/main");
    // Orchestrations and profiles in their folders, a decision log beside its pattern.
    expect(existsSync(join(dir, "orchestrations", "tournament.yaml"))).toBe(true);
    expect(existsSync(join(dir, "profiles", "base_orchestrator.yaml"))).toBe(true);
    expect(readFileSync(join(dir, "orchestrations", "tournament_decisions.yaml"), "utf8")).toBe(readFileSync(join(REPO, "compositions", "tournament_decisions.yaml"), "utf8"));
    expect(git(dir, "ls-files").split("\n")).toContain("orchestrations/tournament_decisions.yaml");
  });

  it("the seeded store indexes every pattern as valid, and every one composes with its declared defaults", async () => {
    await seed();
    const files = new StoreFiles(dir);
    const catalog = new Catalog(files, silentLog());
    const { indexed, invalid } = catalog.reconcile();
    expect(invalid).toEqual([]);
    expect(indexed).toBe(bundledPatterns().length);
    const store = new PatternStore(new GitRepo(dir), files, catalog, silentLog());
    for (const entry of catalog.list()) {
      const composed = await compose({ name: entry.name }, store.load).catch((err: Error) => err);
      expect(composed, `${entry.name}: ${composed instanceof Error ? composed.message : ""}`).not.toBeInstanceOf(Error);
      if (entry.type === "profile" && !(composed instanceof Error)) expect(composed.prompt, entry.name).not.toBe("");
    }
    // The seed commit has no Version trailer: history names it by its tag.
    const tournament = catalog.get("tournament")!;
    expect(await store.history("tournament")).toEqual([expect.objectContaining({ version: tournament.version, op: "seed", author: "patternd" })]);
  });

  it("a folder that is not empty and not a repository is a conflict, and is left alone", async () => {
    mkdirSync(dir);
    writeFileSync(join(dir, "notes.txt"), "mine\n");
    const err = await seed().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonError);
    expect((err as DaemonError).code).toBe("conflict");
    expect((err as DaemonError).message).toContain(dir);
    expect(readdirSync(dir)).toEqual(["notes.txt"]);
  });

  it("an existing repository is used as it is: nothing written, no commit", async () => {
    mkdirSync(dir);
    git(dir, "init", "-q");
    mkdirSync(join(dir, "orchestrations"));
    writeFileSync(join(dir, "orchestrations", "mine.yaml"), "name: mine\n");
    git(dir, "add", ".");
    git(dir, "commit", "-qm", "my own store");
    const head = git(dir, "rev-parse", "HEAD").trim();
    expect(await seed()).toBe(0);
    expect(git(dir, "rev-parse", "HEAD").trim()).toBe(head);
    expect(readdirSync(join(dir, "orchestrations"))).toEqual(["mine.yaml"]);
    expect(git(dir, "tag", "-l")).toBe("");
  });

  it("an empty repository without commits is used as it is", async () => {
    mkdirSync(dir);
    git(dir, "init", "-q");
    expect(await seed()).toBe(0);
    expect(readdirSync(dir)).toEqual([".git"]);
  });

  it("a store folder inside another repository gets its own", async () => {
    git(root, "init", "-q");
    expect(await seed([smallLibrary()])).toBe(1);
    expect(git(dir, "rev-parse", "--show-toplevel").trim()).toBe(dir);
    expect(git(root, "rev-list", "--all")).toBe("");
  });

  it("an invalid bundled file is skipped; the valid ones are seeded", async () => {
    const bundled = join(root, "bundled");
    mkdirSync(bundled);
    writeFileSync(join(bundled, "good.yaml"), "name: good\ntype: orchestration\nversion: 1.0.0\ndescription: fine\n");
    writeFileSync(join(bundled, "bad.yaml"), "name: bad\ntype: orchestration\nversion: nope\ndescription: broken\n");
    writeFileSync(join(bundled, "misnamed.yaml"), "name: other\ntype: orchestration\nversion: 1.0.0\ndescription: wrong file\n");
    writeFileSync(join(bundled, "agent.yaml"), "# typed below\nname: agent\ntype: agent\nversion: 0.1.0\ndescription: an agent\n");
    writeFileSync(join(bundled, "readme.md"), "# not a pattern\n");
    expect(await seed([bundled, join(root, "missing-folder")])).toBe(2);
    expect(git(dir, "ls-files").trim().split("\n")).toEqual(["agents/agent.yaml", "orchestrations/good.yaml"]);
    expect(git(dir, "tag", "-l").trim().split("\n")).toEqual(["agent@0.1.0", "good@1.0.0"]);
  });

  describe("a seed cut short by a kill finishes at the next start (issue 24)", () => {
    /** The store as a full seed leaves it: one commit, every tag, clean, no marker. */
    function expectSeeded(): void {
      const expected = bundledPatterns();
      expect(git(dir, "rev-list", "--count", "HEAD").trim()).toBe("1");
      expect(parseTrailers(git(dir, "log", "-1", "--format=%B")).Op).toBe("seed");
      expect(git(dir, "tag", "-l").split("\n").filter((t) => t !== "").sort()).toEqual(expected.map((p) => `${p.name}@${p.version}`).sort());
      expect(git(dir, "status", "--porcelain", "--untracked-files=all")).toBe("");
      expect(existsSync(join(dir, ".git", SEED_MARKER))).toBe(false);
    }

    it.each([
      ["after the marker, before git init", () => mkdirSync(join(dir, ".git"), { recursive: true })],
      ["after git init", () => {
        mkdirSync(join(dir, ".git"), { recursive: true });
        git(dir, "init", "-q");
      }],
      ["after the files were written and staged (git add)", async () => {
        await seed();
        git(dir, "update-ref", "-d", "HEAD");
        for (const tag of git(dir, "tag", "-l").split("\n").filter((t) => t !== "")) git(dir, "tag", "-d", tag);
        git(dir, "add", "-A");
      }],
      ["after the commit, before any tag", async () => {
        await seed();
        for (const tag of git(dir, "tag", "-l").split("\n").filter((t) => t !== "")) git(dir, "tag", "-d", tag);
      }],
      ["midway through the tags", async () => {
        await seed();
        const tags = git(dir, "tag", "-l").split("\n").filter((t) => t !== "");
        for (const tag of tags.slice(tags.length / 2)) git(dir, "tag", "-d", tag);
      }],
    ] as [string, () => unknown][])("%s", async (_, crash) => {
      await Promise.resolve(crash());
      writeFileSync(join(dir, ".git", SEED_MARKER), "seeding\n");
      await seed();
      expectSeeded();
    });

    it("the marker is gone once the seed is whole, and a later start leaves the store alone", async () => {
      await seed();
      expectSeeded();
      const head = git(dir, "rev-parse", "HEAD").trim();
      expect(await seed()).toBe(0);
      expect(git(dir, "rev-parse", "HEAD").trim()).toBe(head);
    });
  });
});
