/**
 * composition:list pages (issue 18): a store of 1 200 generated patterns
 * (written and committed in the store before the daemon starts, as a store
 * a team grew would be) answers a page of at most `limit` entries (500 by
 * default) with `total` and `next_cursor`, and walking the cursors gives
 * every pattern once, even when patterns are created and deleted between
 * pages; `fields` trims entries; a bad cursor, limit or field is
 * invalid_params saying what is right. `pat ls` prints them all (table,
 * JSON, YAML), `pat ls --limit` one page; the MCP bridge's resources/list
 * passes the daemon's cursor on. On the old code the first reply held every
 * pattern in one piece (no total, no next_cursor) and limit, cursor and
 * fields were unknown parameters.
 */
import { spawnSync } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { Client } from "../client/index.js";
import { cleanup, makeHome, startDaemon, type Daemon } from "./harness.js";
import { closeMcp, openStdio } from "./mcp-client.js";
import { json, pat } from "./pat-process.js";
import { git } from "./store-git.js";

const GENERATED = 1_200;

interface Entry {
  name: string;
  type?: string;
  version?: string;
  description?: string;
  path?: string;
  dirty?: true;
  warnings?: unknown[];
}

interface Page {
  compositions: Entry[];
  total: number;
  next_cursor?: string;
}

const generatedName = (i: number) => `paged_${String(i).padStart(4, "0")}`;

let daemon: Daemon;
let c: Client;
/** Every name the store holds at the start (the bundled ones and the generated ones). */
let everyName: string[];

beforeAll(async () => {
  // A store seeded by a first daemon, the generated patterns then committed and tagged in it as by hand (tags in one
  // update-ref transaction), served by a daemon in another home: the index is built at its start.
  const seeded = await makeHome();
  const seeding = await startDaemon({ home: seeded });
  expect((await seeding.stop()).code).toBe(0);
  const store = join(seeded, "var", "lib", "compositions");
  await mkdir(join(store, "orchestrations", "paged"), { recursive: true });
  for (let i = 0; i < GENERATED; i++) {
    const name = generatedName(i);
    await writeFile(join(store, "orchestrations", "paged", `${name}.yaml`), `name: ${name}\ntype: orchestration\nversion: 1.0.0\ndescription: Generated pattern ${i} for paging.\n`);
  }
  await git(store, "add", "--", "orchestrations/paged");
  await git(store, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--no-verify", "-m", `test: ${GENERATED} generated patterns`);
  const commit = (await git(store, "rev-parse", "HEAD")).trim();
  const tags = Array.from({ length: GENERATED }, (_, i) => `create refs/tags/${generatedName(i)}@1.0.0 ${commit}\n`).join("");
  const tagged = spawnSync("git", ["update-ref", "--stdin"], { cwd: store, input: tags, encoding: "utf8" });
  expect(tagged.status, tagged.stderr).toBe(0);
  // As a clone has no record of a HEAD taken in: its tags are checked once (taking in 1 200 commits' worth of files one by one would take 20 s here).
  await rm(join(store, ".git", "patternd-head"));
  daemon = await startDaemon({ args: ["--store", store] });
  c = await daemon.client();
  everyName = (await walk({})).flatMap((page) => page.compositions.map((e) => e.name));
}, 120_000);

afterAll(async () => {
  await closeMcp();
  await cleanup();
});

/** Every page for `query`, calling between(pageIndex) after each page that has a next one. */
async function walk(query: Record<string, unknown>, between: (index: number) => Promise<void> = async () => {}): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | undefined;
  do {
    const page = await c.request<Page>("composition:list", cursor === undefined ? query : { ...query, cursor });
    pages.push(page);
    cursor = page.next_cursor;
    if (cursor !== undefined) await between(pages.length - 1);
  } while (cursor !== undefined && pages.length < 100);
  return pages;
}

async function refusal(data: Record<string, unknown>): Promise<{ code: string; message: string; details?: { issues?: { path: string; message: string }[] } }> {
  const reply = await (await daemon.raw()).exchange({ event: "composition:list", id: "bad", data });
  expect(reply[0]!.ok, JSON.stringify(reply[0])).toBe(false);
  return reply[0]!.error as { code: string; message: string };
}

const minimal = (name: string) => ({ name, type: "orchestration", version: "1.0.0", description: `Made between pages: ${name}.` });

describe("composition:list pages", () => {
  it("the default page is 500 entries in name order, with total and a next_cursor", async () => {
    expect(everyName.length).toBeGreaterThan(GENERATED);
    expect(everyName).toEqual([...everyName].sort());
    const first = await c.request<Page>("composition:list", {});
    expect(first.compositions).toHaveLength(500);
    expect(first.total).toBe(everyName.length);
    expect(typeof first.next_cursor).toBe("string");
    expect(first.compositions.map((e) => e.name)).toEqual(everyName.slice(0, 500));
    // Every field by default.
    expect(first.compositions.find((e) => e.name === generatedName(7))).toEqual({
      name: generatedName(7),
      type: "orchestration",
      version: "1.0.0",
      description: "Generated pattern 7 for paging.",
      path: `orchestrations/paged/${generatedName(7)}.yaml`,
    });
    const pages = await walk({});
    expect(pages.map((p) => p.compositions.length)).toEqual([500, 500, everyName.length - 1_000]);
    expect(pages.at(-1)!.next_cursor).toBeUndefined();
    expect(pages.flatMap((p) => p.compositions.map((e) => e.name))).toEqual(everyName);
  });

  it("walking the cursors gives each pattern once while patterns are created and deleted between pages", async () => {
    const pages = await walk({ limit: 300 }, async (index) => {
      if (index !== 0) return;
      // Before the cursor (given already, or never to be given): neither repeats nor shifts what comes.
      await c.request("composition:save", { composition: minimal("aaa_made_between_pages") });
      await c.request("composition:delete", { name: everyName[0]! });
      // After the cursor: a new one comes in its place, a deleted one does not come.
      await c.request("composition:save", { composition: minimal("zzz_made_between_pages") });
      await c.request("composition:delete", { name: generatedName(1_100) });
    });
    const seen = pages.flatMap((p) => p.compositions.map((e) => e.name));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort());
    const expected = everyName.filter((name) => name !== generatedName(1_100)).concat("zzz_made_between_pages").sort();
    expect(seen).toEqual(expected);
    expect(pages.at(-1)!.total).toBe(everyName.length);
    // The store is as the changes left it: one more before, one less after, one more at the end.
    everyName = (await walk({ limit: 5_000 })).flatMap((page) => page.compositions.map((e) => e.name));
    expect(everyName).toContain("aaa_made_between_pages");
    expect(everyName).not.toContain(generatedName(1_100));
  }, 60_000);

  it("fields trims entries (name always comes); type pages with its own total", async () => {
    const page = await c.request<Page>("composition:list", { fields: ["version"], limit: 3 });
    expect(page.compositions).toEqual(everyName.slice(0, 3).map((name) => ({ name, version: expect.any(String) })));
    const names = await c.request<Page>("composition:list", { fields: ["name"], limit: 5_000 });
    expect(names.compositions).toHaveLength(everyName.length);
    for (const entry of names.compositions) expect(Object.keys(entry)).toEqual(["name"]);

    const profiles = await walk({ type: "profile", limit: 2, fields: ["type"] });
    const all = await c.request<Page>("composition:list", { limit: 5_000, fields: ["type"] });
    const profileNames = all.compositions.filter((e) => e.type === "profile").map((e) => e.name);
    expect(profileNames.length).toBeGreaterThan(2);
    expect(profiles.flatMap((p) => p.compositions.map((e) => e.name))).toEqual(profileNames);
    expect(profiles[0]!.total).toBe(profileNames.length);
  });

  it.each([
    [{ cursor: "not-a-cursor" }, "cursor", "pass next_cursor from the previous composition:list reply"],
    [{ cursor: "500" }, "cursor", "leave cursor out for the first page"],
    [{ limit: 0 }, "limit", "limit is at least 1"],
    [{ limit: 5_001 }, "limit", "limit is at most 5000; page with cursor"],
    [{ fields: ["name", "colour"] }, "fields.1", "a field is one of name, type, version, description, path, dirty, warnings"],
    [{ offset: 500 }, "", "offset"],
  ])("%j is invalid_params at %s, saying what is right", async (data, path, message) => {
    const error = await refusal(data);
    expect(error.code).toBe("invalid_params");
    expect(error.message).toContain(message);
    expect(error.details?.issues?.[0]?.path).toBe(path);
    expect((await c.request<{ status: string }>("system:health")).status).toBe("ok");
  });
});

describe("pat ls on a big store", () => {
  it("prints every pattern, as a table, as one JSON document and as one YAML document", async () => {
    const asJson = await pat(daemon.home, ["ls", "-o", "json"]);
    expect(asJson.code, asJson.stderr).toBe(0);
    const document = json<{ compositions: Entry[]; total: number }>(asJson);
    expect(document.compositions.map((e) => e.name)).toEqual(everyName);
    expect(document.total).toBe(everyName.length);

    const asYaml = await pat(daemon.home, ["ls", "-o", "yaml"]);
    expect(asYaml.code, asYaml.stderr).toBe(0);
    expect(parseYaml(asYaml.stdout)).toEqual(document);

    const asTable = await pat(daemon.home, ["ls"]);
    expect(asTable.code, asTable.stderr).toBe(0);
    const lines = asTable.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME +TYPE +VERSION +DESCRIPTION$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual(everyName);
  }, 60_000);

  it("--limit prints one page and how to get the next", async () => {
    const first = await pat(daemon.home, ["ls", "--limit", "10"]);
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(12);
    expect(lines.slice(1, 11).map((line) => line.split(/\s+/)[0])).toEqual(everyName.slice(0, 10));
    const next = /^10 of (\d+); next page: pat ls --limit 10 --cursor (\S+)$/.exec(lines[11]!);
    expect(next, lines[11]).not.toBeNull();
    expect(Number(next![1])).toBe(everyName.length);
    const second = await pat(daemon.home, ["ls", "--limit", "10", "--cursor", next![2]!, "-o", "json"]);
    expect(second.code, second.stderr).toBe(0);
    expect(json<Page>(second).compositions.map((e) => e.name)).toEqual(everyName.slice(10, 20));

    const garbled = await pat(daemon.home, ["ls", "--cursor", "garbled"]);
    expect(garbled.code).toBe(1);
    expect(garbled.stderr).toContain("pass next_cursor");
  });
});

describe("the MCP bridge's resources/list", () => {
  it("pages with the daemon's cursor (nextCursor is next_cursor) and lists every pattern once", async () => {
    const session = await openStdio(daemon.home);
    // The SDK's listResources() follows nextCursor to the last page itself.
    const all = await session.client.listResources();
    expect(all.resources.map((r) => r.uri)).toEqual(everyName.map((name) => `pattern://${name}`));
    // A page: the cursor is composition:list's, 500 resources after the name it holds.
    const { next_cursor } = await c.request<Page>("composition:list", { fields: ["name"] });
    const second = await session.client.listResources({ cursor: next_cursor! });
    expect(second.resources.map((r) => r.name)).toEqual(everyName.slice(500, 1_000));
    expect(second.resources[0]).toMatchObject({ title: `${everyName[500]}@1.0.0 (orchestration)`, mimeType: "application/yaml" });
    const third = await session.client.listResources({ cursor: second.nextCursor! });
    expect(third.resources.map((r) => r.name)).toEqual(everyName.slice(1_000));
    expect(third.nextCursor).toBeUndefined();
    await expect(session.client.listResources({ cursor: "1000" })).rejects.toThrow(/pass next_cursor/);
    await session.close();
  }, 60_000);
});
