/**
 * Typos in values are caught (the compiled `pat` and the library client
 * against a real daemon in a temporary home seeded with the bundled
 * patterns): a type close to one that patterns have but that none has, an
 * outcome select cannot read, and an inherited variable definition replaced
 * by a plain value. Each test first shows the silent wrong the value led to,
 * then the error or warning that now says so, and that the daemon still
 * serves.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { RemoteError } from "../client/client.js";
import { cleanup, startDaemon, type Daemon } from "./harness.js";
import { json, pat } from "./pat-process.js";

afterAll(cleanup);

interface Listed {
  compositions: { name: string; type: string }[];
}

interface Issue {
  path: string;
  message: string;
}

async function remoteError(promise: Promise<unknown>): Promise<RemoteError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RemoteError);
  return err as RemoteError;
}

describe("typos in values", () => {
  let d: Daemon;
  let client: Client;

  beforeAll(async () => {
    d = await startDaemon();
    client = await d.client();
  });

  it("--type orchestrations: invalid_params, did you mean orchestration (ls, list, discover, select)", async () => {
    // The silent wrong: no pattern has the plural type, so filtering on it could only answer an empty list.
    const all = await client.request<Listed>("composition:list", {});
    expect(all.compositions.filter((c) => c.type === "orchestration").length).toBeGreaterThan(10);
    expect(all.compositions.some((c) => c.type === "orchestrations")).toBe(false);

    const message = "no pattern has type orchestrations; did you mean orchestration? (types in the store: mixin, orchestration, profile)";
    const ls = await pat(d.home, ["ls", "--type", "orchestrations", "--json"]);
    expect(ls.code).toBe(1);
    expect(ls.stderr).toContain(`error [invalid_params]: ${message}`);
    expect(json<{ error: { code: string; details: unknown } }>(ls).error).toMatchObject({
      code: "invalid_params",
      details: { issues: [{ path: "type", message }], suggestions: ["orchestration"], types: ["mixin", "orchestration", "profile"] },
    });

    for (const [event, data] of [
      ["composition:list", { type: "orchestrations" }],
      ["composition:discover", { type: "orchestrations" }],
      ["composition:select", { task: "rank answers", type: "orchestrations" }],
      ["composition:select", { task: "rank answers", type: "Orchestration" }],
    ] as const) {
      const err = await remoteError(client.request(event, data));
      expect(err.code, event).toBe("invalid_params");
      expect(err.message, event).toContain("did you mean orchestration?");
    }

    // A type far from every known one may be one no pattern has yet: an empty answer, as before.
    expect(await client.request<Listed>("composition:list", { type: "capability" })).toEqual({ compositions: [], total: 0 });
    // and the right type still lists
    const right = await pat(d.home, ["ls", "--type", "orchestration", "--json"]);
    expect(right.code, right.stderr).toBe(0);
    expect(json<Listed>(right).compositions.length).toBe(all.compositions.filter((c) => c.type === "orchestration").length);
  });

  it("pat decide --outcome sucess: recorded as given, with a warning that select does not count it and what was meant", async () => {
    type Stats = { stats: { successes: number; failures: number; by_outcome: Record<string, number> } };
    const before = (await client.request<Stats>("composition:decisions", { pattern: "tournament" })).stats;
    const typo = await pat(d.home, ["decide", "tournament", "use 3 judges per match", "--outcome", "sucess", "--json"]);
    expect(typo.code, typo.stderr).toBe(0);
    const tracked = json<{ tracked: { outcome: string }; warnings: Issue[] }>(typo);
    expect(tracked.tracked.outcome).toBe("sucess");

    // The silent wrong it warns of: the record counts as neither a success nor a failure.
    const stats = (await client.request<Stats>("composition:decisions", { pattern: "tournament" })).stats;
    expect(stats).toMatchObject({ successes: before.successes, failures: before.failures, by_outcome: { sucess: 1 } });

    expect(tracked.warnings).toHaveLength(1);
    expect(tracked.warnings[0]!.path).toBe("outcome");
    expect(tracked.warnings[0]!.message).toContain('outcome "sucess" has no word select reads, so it counts as neither a success nor a failure');
    expect(tracked.warnings[0]!.message).toContain('Did you mean "success"?');
    expect(tracked.warnings[0]!.message).toContain("Words select reads: success, ok, passed, done, completed (a success); failure, error, timeout");
    expect(typo.stderr).toContain('pat: warning at outcome: outcome "sucess" has no word select reads');

    const right = await pat(d.home, ["decide", "tournament", "use 3 judges per match", "--outcome", "success", "--json"]);
    expect(right.code, right.stderr).toBe(0);
    expect(json(right)).not.toHaveProperty("warnings");
    expect(right.stderr).toBe("");
    const after = (await client.request<Stats>("composition:decisions", { pattern: "tournament" })).stats;
    expect(after.successes).toBe(before.successes + 1);
  });

  it("composition:validate (and save) flag a variable definition inherited through extends replaced by a plain value", async () => {
    const child = {
      name: "tournament_eight",
      type: "orchestration",
      version: "1.0.0",
      description: "A tournament of eight rounds",
      extends: "tournament",
      variables: { rounds: 8, participants: { default: ["a", "b"] } },
    };
    // The silent wrong: composed, the rounds variable is the bare value; its type and description are gone.
    const composed = await client.request<{ composition: { variables: Record<string, unknown> } }>("composition:compose", {
      name: "tournament",
    });
    expect(composed.composition.variables.rounds).toMatchObject({ type: "integer", default: 5 });

    const validated = await pat(d.home, ["send", "composition:validate", JSON.stringify({ composition: child })]);
    expect(validated.code, validated.stderr).toBe(0);
    const reply = json<{ valid: boolean; issues: Issue[]; warnings: Issue[] }>(validated);
    expect(reply.valid).toBe(true);
    expect(reply.issues).toEqual([]);
    expect(reply.warnings).toHaveLength(1);
    expect(reply.warnings[0]!.path).toBe("variables.rounds");
    expect(reply.warnings[0]!.message).toMatch(
      /^the definition of rounds inherited from tournament \(\{"type":"integer","default":5,"description":"Upper bound on rounds.*"\}\) is replaced by the value 8: its type and description are lost\. To change only the default, write rounds: \{default: 8\}$/,
    );
    expect(validated.stderr).toContain("pat: warning at variables.rounds: the definition of rounds inherited from tournament");

    // save does not refuse it (it is valid), and says the same
    const saved = await client.request<{ name: string; warnings: Issue[] }>("composition:save", { composition: child });
    expect(saved.name).toBe("tournament_eight");
    expect(saved.warnings).toEqual(reply.warnings);
    const composedChild = await client.request<{ composition: { variables: Record<string, unknown> } }>("composition:compose", { name: "tournament_eight" });
    expect(composedChild.composition.variables.rounds).toBe(8);
    expect(await client.request("composition:validate", { name: "tournament_eight" })).toEqual({ valid: true, issues: [], warnings: reply.warnings });

    // {default: 8} keeps the definition: no warning
    const fixed = await client.request("composition:validate", { composition: { ...child, variables: { rounds: { default: 8 } } } });
    expect(fixed).toEqual({ valid: true, issues: [] });
    expect(await client.request<{ status: string }>("system:health")).toMatchObject({ status: "ok" });
  });
});
