/**
 * Save vs update (issue 12, items 2 and 3): a whole-document save never
 * silently deletes what it was not given; composition:update (and `pat set`)
 * patches by dotted path, losslessly, one commit per change; a dotted CLI key
 * never reshapes a parameter keyed by dotted paths; a map given for a map is
 * merged key by key unless replace_maps says otherwise.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { cleanup, startDaemon, type Daemon } from "./harness.js";
import { json, pat } from "./pat-process.js";
import { commitCount, git, head, snapshot, trailers } from "./store-git.js";

type Msg = Record<string, unknown>;
interface WireErr {
  code: string;
  message: string;
  details?: Msg;
}

let d: Daemon;
let c: Client;
let store: string;

beforeAll(async () => {
  d = await startDaemon();
  c = await d.client({ agentId: "upd_e2e" });
  store = join(d.home, "var", "lib", "compositions");
});
afterAll(cleanup);

async function failure(event: string, data: Msg): Promise<WireErr> {
  const reply = await c.send(event, data);
  expect(reply.ok, `${event} should fail, got ${JSON.stringify(reply).slice(0, 300)}`).toBe(false);
  return (reply as unknown as { error: WireErr }).error;
}

const file = (path: string) => readFile(join(store, path), "utf8");

describe("a whole-document save that would drop what it was not given (item 2)", () => {
  it("is refused when it would drop a fork's lineage, naming it; nothing is committed; replace: true replaces", async () => {
    await c.request("composition:fork", { parent: "tournament", name: "upd_fork", reason: "to be saved partially" });
    const before = await snapshot(store);
    const text = await file("orchestrations/upd_fork.yaml");
    // The mistake from the issue: a partial object sent as a patch.
    const partial = { name: "upd_fork", type: "orchestration", version: "0.1.0", description: "Swiss pairing now" };
    const error = await failure("composition:save", { composition: partial });
    expect(error.code).toBe("conflict");
    expect(error.message).toMatch(/would drop its lineage/);
    expect(error.message).toContain("composition:update");
    expect(error.message).toContain("replace: true");
    expect(error.details?.lost).toEqual(expect.arrayContaining(["lineage", "orchestration_logic", "variables"]));
    expect(await snapshot(store)).toEqual(before);
    expect(await file("orchestrations/upd_fork.yaml")).toBe(text);
    const replaced = await c.request<{ version: string }>("composition:save", { composition: partial, replace: true });
    expect(replaced.version).toBe("0.1.1");
    expect(parseYaml(await file("orchestrations/upd_fork.yaml"))).toEqual({ ...partial, version: "0.1.1" });
  });

  it("is refused when it would drop more than half of the sections; a save keeping most of them goes through", async () => {
    await c.request("composition:save", {
      yaml: "name: upd_half\ntype: orchestration\nversion: 1.0.0\ndescription: half\nagents: [a]\nrouting: {x: 1}\ntransformers: [t]\nnotes: n\nextra: 1\n",
    });
    const error = await failure("composition:save", { yaml: "name: upd_half\ntype: orchestration\nversion: 1.0.0\ndescription: half\n" });
    expect(error.code).toBe("conflict");
    expect(error.message).toMatch(/would drop 5 of its 9 sections \(agents, routing, transformers, notes, extra\)/);
    const kept = await c.request<{ version: string }>("composition:save", {
      yaml: "name: upd_half\ntype: orchestration\nversion: 1.0.0\ndescription: half\nagents: [a]\nrouting: {x: 1}\ntransformers: [t]\nnotes: n\n",
    });
    expect(kept.version).toBe("1.0.1");
  });
});

describe("composition:update (item 2)", () => {
  const original = [
    "# upd_patch: a pattern edited by path",
    "name: upd_patch",
    "type: orchestration",
    "version: 1.0.0",
    "description: Patched by path  # kept",
    "variables:",
    "  rounds:",
    "    type: integer",
    "    default: 3  # how many rounds",
    "  judges:",
    "    default: 2",
    "metadata:",
    "  tags: [a, b]",
    "  owner: me",
    "agents:  # unknown section, kept byte for byte",
    "  - {name: x, role: y}",
    "",
  ].join("\n");

  it("sets and unsets by dotted path in one commit, bumps the patch, and leaves every other line byte-equal", async () => {
    await c.request("composition:save", { yaml: original });
    const commits = await commitCount(store);
    const result = await c.request<{ version: string; commit: string; new_paths: string[] }>("composition:update", {
      name: "upd_patch",
      set: { "variables.rounds.default": 4, "metadata.reviewed": true },
      unset: ["metadata.owner"],
    });
    expect(result.version).toBe("1.0.1");
    expect(result.new_paths).toEqual(["metadata.reviewed"]);
    expect(await commitCount(store)).toBe(commits + 1);
    expect(await head(store)).toBe(result.commit);
    expect(await trailers(store, result.commit)).toMatchObject({ Op: "update", Pattern: "upd_patch", Version: "1.0.1", Previous: "1.0.0", Agent: "upd_e2e" });
    expect((await git(store, "tag", "-l", "upd_patch@1.0.1")).trim()).toBe("upd_patch@1.0.1");
    const text = await file("orchestrations/upd_patch.yaml");
    expect(text).toContain("    default: 4  # how many rounds\n");
    expect(text).toContain("  reviewed: true\n");
    expect(text).not.toContain("owner");
    const changed = new Set(["version: 1.0.0", "    default: 3  # how many rounds", "  owner: me"]);
    for (const line of original.split("\n").filter((l) => l !== "" && !changed.has(l))) expect(text).toContain(`${line}\n`);
    expect(await git(store, "status", "--porcelain")).toBe("");
  });

  it("merges a map given for a map key by key; replace_maps replaces it whole", async () => {
    await c.request("composition:update", { name: "upd_patch", set: { variables: { rounds: { default: 6 } } } });
    let doc = parseYaml(await file("orchestrations/upd_patch.yaml")) as Msg;
    expect(doc.variables).toEqual({ rounds: { type: "integer", default: 6 }, judges: { default: 2 } });
    await c.request("composition:update", { name: "upd_patch", set: { variables: { rounds: { default: 7 } } }, replace_maps: true });
    doc = parseYaml(await file("orchestrations/upd_patch.yaml")) as Msg;
    expect(doc.variables).toEqual({ rounds: { default: 7 } });
  });

  it("refuses what it cannot do, with the right form, and commits nothing", async () => {
    const before = await snapshot(store);
    const cases: [Msg, string, RegExp][] = [
      [{ name: "upd_patch" }, "invalid_params", /set: \{dotted\.path: value\}/],
      [{ name: "upd_patch", unset: ["metadata.nothing"] }, "invalid_params", /nothing at metadata\.nothing to remove/],
      [{ name: "upd_patch", set: { name: "other" } }, "invalid_params", /a pattern is renamed by forking it/],
      [{ name: "upd_patch", set: { "lineage.parent": "x@1.0.0" } }, "invalid_params", /"lineage" is not changed by an update/],
      [{ name: "upd_patch", set: { "description.short": "x" } }, "invalid_params", /"description" is a string, not a map/],
      [{ name: "upd_patch", set: { version: "0.9.0" } }, "conflict", /older than upd_patch's current/],
      [{ name: "upd_patch", unset: ["description"] }, "invalid_params", /description/],
      [{ name: "upd_nothing", set: { a: 1 } }, "not_found", /no composition upd_nothing/],
    ];
    for (const [data, code, message] of cases) {
      const error = await failure("composition:update", data);
      expect(error.code, JSON.stringify(data)).toBe(code);
      expect(error.message, JSON.stringify(data)).toMatch(message);
    }
    expect(await snapshot(store)).toEqual(before);
    const same = await c.request<{ unchanged?: boolean }>("composition:update", { name: "upd_patch", set: { "metadata.tags": ["a", "b"] } });
    expect(same.unchanged).toBe(true);
    expect(await snapshot(store)).toEqual(before);
    expect((await c.request<{ status: string }>("system:health")).status).toBe("ok");
  });

  it("50 concurrent updates of different paths from 5 clients: 50 commits, every change, the file lossless", async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `k${String(i).padStart(2, "0")}`);
    const text = [
      "name: upd_many",
      "type: orchestration",
      "version: 1.0.0",
      "description: fifty settings  # a comment",
      "settings:",
      ...keys.map((k, i) => `  ${k}: ${i}  # setting ${k}`),
      "routing:  # kept as written",
      "  mode:   fanout",
      "",
    ].join("\n");
    await c.request("composition:save", { yaml: text });
    const commits = await commitCount(store);
    const clients = await Promise.all(Array.from({ length: 5 }, (_, i) => d.client({ agentId: `upd_client_${i}` })));
    const results = await Promise.all(
      keys.map((k, i) => clients[i % 5]!.request<{ version: string }>("composition:update", { name: "upd_many", set: { [`settings.${k}`]: i + 1000 } })),
    );
    expect(new Set(results.map((r) => r.version)).size).toBe(50);
    expect(await commitCount(store)).toBe(commits + 50);
    const after = await file("orchestrations/upd_many.yaml");
    const expected = text
      .replace("version: 1.0.0", "version: 1.0.50")
      .replace(/ {2}(k\d\d): (\d+) {2}# setting/g, (_m, k: string, n: string) => `  ${k}: ${Number(n) + 1000}  # setting`);
    expect(after).toBe(expected);
    expect(await git(store, "status", "--porcelain")).toBe("");
    expect((await git(store, "tag", "-l", "upd_many@*")).trim().split("\n")).toHaveLength(51);
  });
});

describe("pat set (item 2) and dotted keys of path-keyed parameters (item 3)", () => {
  it("pat set changes values by path and says which paths are new", async () => {
    const run = await pat(d.home, ["set", "upd_patch", "variables.rounds.default=8", "metadata.colour=blue", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(json<{ new_paths: string[] }>(run).new_paths).toEqual(["metadata.colour"]);
    const doc = parseYaml(await file("orchestrations/upd_patch.yaml")) as { variables: Msg; metadata: Msg };
    expect(doc.metadata.colour).toBe("blue");
    expect(doc.variables).toEqual({ rounds: { default: 8 } });
    const usage = await pat(d.home, ["set", "upd_patch", "variables.judges.default"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/each change is path=value/);
  });

  it("--modifications.variables.rounds.default 4 changes one default of a fork and keeps every other variable", async () => {
    // The mistake from the issue: the dotted flag became {variables: {rounds: {default: 4}}} and wiped the other variables.
    const run = await pat(d.home, ["send", "composition:fork", "--parent", "tournament", "--name", "upd_dotted", "--reason", "four rounds", "--modifications.variables.rounds.default", "4"]);
    expect(run.code, run.stderr).toBe(0);
    expect(json<{ new_paths: string[] }>(run).new_paths).toEqual([]);
    const parent = parseYaml(await file("orchestrations/tournament.yaml")) as { variables: Record<string, Msg> };
    const fork = parseYaml(await file("orchestrations/upd_dotted.yaml")) as { variables: Record<string, Msg> };
    expect(Object.keys(fork.variables)).toEqual(Object.keys(parent.variables));
    expect(fork.variables.rounds).toEqual({ ...parent.variables.rounds, default: 4 });
    // The same through metadata_filter: the rest of the flag is one path.
    const found = await pat(d.home, ["send", "composition:discover", "--metadata_filter.variables.rounds.default", "4", "--fields", "name"]);
    expect(found.code, found.stderr).toBe(0);
    expect(json<{ compositions: { name: string }[] }>(found).compositions.map((p) => p.name)).toEqual(["upd_dotted"]);
  });
});
