/**
 * state:set {expect} end to end (issue 14: state coordination between
 * handlers): versions on get/set/list, compare-and-set by version or by
 * value, the conflict reply, sets racing on separate connections of a real
 * daemon (exactly one wins each round, no lost update), and versions that
 * survive a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { cleanup, startDaemon, type Daemon, type RawConnection } from "./harness.js";

type Msg = Record<string, unknown>;

interface WireError {
  code: string;
  message: string;
  details?: Msg;
}

interface Entry {
  key: string;
  value: unknown;
  version: number;
}

const WRITERS = 8;

let daemon: Daemon;
let c: Client;

beforeAll(async () => {
  daemon = await startDaemon();
  c = await daemon.client({ agentId: "cas-tester" });
});
afterAll(cleanup);

/** The error `event` fails with; a success fails the test. */
async function failure(client: Client, event: string, data: Msg): Promise<WireError> {
  const reply = await client.send(event, data);
  expect(reply.ok, `${event} ${JSON.stringify(data)} should fail, got ${JSON.stringify(reply)}`).toBe(false);
  return (reply as unknown as { error: WireError }).error;
}

/** The key's value and version; an absent key is version 0 (what `expect` then names). */
async function read(client: Client, key: string): Promise<{ value: unknown; version: number }> {
  const reply = await client.send("state:get", { key });
  if (reply.ok) return reply.data as Entry;
  expect(reply.error).toMatchObject({ code: "not_found", details: { version: 0 } });
  return { value: undefined, version: 0 };
}

/** `count` connections of their own (no pipelining through one socket). */
async function connections(count: number): Promise<RawConnection[]> {
  return Promise.all(Array.from({ length: count }, () => daemon.raw()));
}

/** Sends one request on each connection at once; resolves with each connection's reply. */
async function race(raws: RawConnection[], request: (i: number) => Msg): Promise<Msg[]> {
  const starts = raws.map((raw) => raw.lines.length);
  await Promise.all(raws.map((raw, i) => raw.send({ id: i, ...request(i) })));
  return Promise.all(raws.map(async (raw, i) => (await raw.waitLines(starts[i]! + 1)).at(-1)!));
}

async function expectServing(): Promise<void> {
  expect(await c.request<Msg>("system:health", {})).toMatchObject({ status: "ok" });
}

describe("versions", () => {
  it("each set raises the key's version by one; get, set and list report it; a missing key is version 0", async () => {
    const own = await startDaemon();
    const fresh = await own.client();
    const key = "run_42.status";
    const missing = await failure(fresh, "state:get", { key });
    expect(missing).toMatchObject({ code: "not_found", details: { key, version: 0 } });

    // Nothing was ever deleted in this state: a new key starts at 1.
    expect(await fresh.request("state:set", { key, value: "running" })).toEqual({ key, value: "running", version: 1 });
    expect(await fresh.request("state:set", { key, value: "done" })).toEqual({ key, value: "done", version: 2, previous: "running" });
    expect(await fresh.request("state:get", { key })).toEqual({ key, value: "done", version: 2 });
    expect((await fresh.request<{ entries: Entry[] }>("state:list", { prefix: "run_42" })).entries).toEqual([{ key, value: "done", version: 2 }]);
  });

  it("a key deleted and set again continues above its old version, so a stale expect cannot win", async () => {
    const key = `reborn_${process.pid}`;
    await c.request("state:set", { key, value: "a" });
    await c.request("state:set", { key, value: "b" });
    await c.request("state:delete", { key });
    expect((await c.request<Entry>("state:set", { key, value: "c" })).version).toBeGreaterThan(2);
    expect((await failure(c, "state:set", { key, value: "stale", expect: { version: 1 } })).code).toBe("conflict");
  });

  it("versions survive a restart", async () => {
    const own = await startDaemon();
    const before = await own.client();
    for (const value of [1, 2, 3]) await before.request("state:set", { key: "kept", value });
    await before.request("state:set", { key: "gone", value: 1 });
    await before.request("state:set", { key: "gone", value: 2 });
    await before.request("state:delete", { key: "gone" });
    expect((await own.stop()).code).toBe(0);

    const again = await startDaemon({ home: own.home });
    const after = await again.client();
    expect(await after.request("state:get", { key: "kept" })).toEqual({ key: "kept", value: 3, version: 3 });
    expect(await after.request("state:set", { key: "kept", value: 4, expect: { version: 3 } })).toMatchObject({ version: 4 });
    expect(await after.request("state:set", { key: "gone", value: "back" })).toMatchObject({ version: 3 });
  });
});

describe("compare-and-set", () => {
  it("expect {version: N} sets only at version N; otherwise conflict with the current version and value", async () => {
    const key = `by_version_${process.pid}`;
    const { version: read1 } = await c.request<Entry>("state:set", { key, value: { n: 1 } });
    const read2 = read1 + 1;
    expect(await c.request("state:set", { key, value: { n: 2 }, expect: { version: read1 } })).toEqual({ key, value: { n: 2 }, version: read2, previous: { n: 1 } });

    const conflict = await failure(c, "state:set", { key, value: { n: 99 }, expect: { version: read1 } });
    expect(conflict.code).toBe("conflict");
    expect(conflict.message).toBe(`state key ${key} is at version ${read2}, not ${read1}: it changed since it was read; build on details.value and retry with expect {version: ${read2}}`);
    expect(conflict.details).toEqual({ key, version: read2, value: { n: 2 }, expected: { version: read1 } });
    expect(await c.request("state:get", { key })).toEqual({ key, value: { n: 2 }, version: read2 });
    await expectServing();
  });

  it("expect {version: 0} creates a key only while it is absent (a lock)", async () => {
    const key = `lock_${process.pid}`;
    const held = await c.request<Entry>("state:set", { key, value: "agent-a", expect: { version: 0 } });
    expect(held).toMatchObject({ key, value: "agent-a" });

    const taken = await failure(c, "state:set", { key, value: "agent-b", expect: { version: 0 } });
    expect(taken.code).toBe("conflict");
    expect(taken.message).toContain(`already exists (version ${held.version}); expect {version: 0} only creates an absent key`);
    expect(taken.details).toMatchObject({ version: held.version, value: "agent-a" });
    expect(await read(c, key)).toEqual({ key, value: "agent-a", version: held.version });
  });

  it("on a missing key the conflict names the form that creates it: expect {version: 0}", async () => {
    const key = `absent_${process.pid}`;
    const byVersion = await failure(c, "state:set", { key, value: 1, expect: { version: 4 } });
    expect(byVersion).toMatchObject({ code: "conflict", details: { key, version: 0 } });
    expect(byVersion.message).toMatch(/does not exist \(version 0\), not version 4; to create it only while it is absent, expect \{version: 0\}/);
    expect(byVersion.details).not.toHaveProperty("value");

    const byValue = await failure(c, "state:set", { key, value: 1, expect: null });
    expect(byValue.message).toMatch(/does not exist, so it does not hold the expected value; to create it only while it is absent, expect \{version: 0\}/);
    expect((await failure(c, "state:get", { key })).code).toBe("not_found");
  });

  it("expect a value: the set happens only if the key deep-equals it", async () => {
    const key = `by_value_${process.pid}`;
    const { version } = await c.request<Entry>("state:set", { key, value: { phase: "plan", owners: ["a", "b"] } });
    expect(await c.request("state:set", { key, value: { phase: "run" }, expect: { owners: ["a", "b"], phase: "plan" } })).toMatchObject({ version: version + 1 });

    const stale = await failure(c, "state:set", { key, value: { phase: "other" }, expect: { owners: ["a", "b"], phase: "plan" } });
    expect(stale.code).toBe("conflict");
    expect(stale.message).toContain(`(version ${version + 1}) does not hold the expected value; build on details.value and retry with expect {version: ${version + 1}}`);
    expect(stale.details).toMatchObject({ version: version + 1, value: { phase: "run" } });
  });

  it.each<[string, unknown, RegExp]>([
    ["a negative version", { version: -1 }, /\{version: N\} expects a version, a whole number ≥ 0 \(0: the key does not exist\), not -1/],
    ["a fractional version", { version: 1.5 }, /not 1\.5/],
    ["a version as text", { version: "2" }, /not "2"/],
  ])("%s in expect is invalid_params at expect, showing the right form", async (_, expectation, message) => {
    const error = await failure(c, "state:set", { key: `bad_expect_${process.pid}`, value: 1, expect: expectation });
    expect(error.code).toBe("invalid_params");
    const issues = error.details?.issues as { path: unknown; message: string }[];
    expect(issues.some((issue) => JSON.stringify(issue.path).includes("expect") && message.test(issue.message)), JSON.stringify(issues)).toBe(true);
    expect((await failure(c, "state:get", { key: `bad_expect_${process.pid}` })).code).toBe("not_found");
  });
});

describe(`${WRITERS} concurrent writers on separate connections`, () => {
  it("two sets with the same expect on different connections, sent at once: exactly one wins", async () => {
    const key = `pair_${process.pid}`;
    const { version: start } = await c.request<Entry>("state:set", { key, value: "start" });
    const raws = await connections(2);
    for (let version = start; version < start + 20; version++) {
      const replies = await race(raws, (i) => ({ event: "state:set", data: { key, value: `round ${version} by ${i}`, expect: { version } } }));
      expect(replies.filter((r) => r.ok === true), `round ${version}: ${JSON.stringify(replies)}`).toHaveLength(1);
      expect(replies.find((r) => r.ok === false)).toMatchObject({ error: { code: "conflict", details: { version: version + 1 } } });
    }
    expect(await read(c, key)).toMatchObject({ version: start + 20 });
  });

  it("each round exactly one of 8 wins; the others see the winner's value and version", async () => {
    const key = `rounds_${process.pid}`;
    const raws = await connections(WRITERS);
    // Round 0 races to create the key (expect {version: 0}); each later round to change the version the last one left.
    let version = 0;
    for (let round = 0; round < 25; round++) {
      const expected = version;
      const replies = await race(raws, (i) => ({ event: "state:set", data: { key, value: { round, writer: i }, expect: { version: expected } } }));
      const winners = replies.filter((r) => r.ok === true);
      expect(winners, `round ${round}: ${JSON.stringify(replies)}`).toHaveLength(1);
      const won = winners[0]!.data as Entry;
      for (const lost of replies.filter((r) => r.ok === false)) {
        expect(lost).toMatchObject({ error: { code: "conflict", details: { key, version: won.version, value: won.value } } });
      }
      expect(await read(c, key)).toEqual({ key, value: won.value, version: won.version });
      version = won.version;
    }
    await expectServing();
  });

  it("8 writers incrementing one counter 50 times each with read-CAS-retry: 400, no lost update", async () => {
    const key = `counter_${process.pid}`;
    const { version: start } = await c.request<Entry>("state:set", { key, value: 0 });
    const clients = await Promise.all(Array.from({ length: WRITERS }, (_, i) => daemon.client({ agentId: `writer-${i}` })));
    let conflicts = 0;
    const increment50 = async (client: Client) => {
      let current = await read(client, key);
      for (let done = 0; done < 50; ) {
        const next = (current.value as number) + 1;
        const reply = await client.send("state:set", { key, value: next, expect: { version: current.version } });
        if (reply.ok) {
          done++;
          current = { value: next, version: (reply.data as Entry).version };
        } else {
          expect(reply.error.code).toBe("conflict");
          conflicts++;
          // The conflict carries what to build on: no second read needed.
          const details = reply.error.details as { value?: unknown; version: number };
          current = { value: details.value, version: details.version };
        }
      }
    };
    await Promise.all(clients.map(increment50));
    expect(await read(c, key)).toEqual({ key, value: WRITERS * 50, version: start + WRITERS * 50 });
    expect(conflicts, "the writers did contend").toBeGreaterThan(0);
    await expectServing();
  }, 60_000);
});
