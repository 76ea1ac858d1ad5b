/**
 * The state journal (var/lib/state.ndjson, issue 22) end to end: a daemon
 * killed with SIGKILL in the middle of a stream of sets, and in the middle
 * of a compaction, comes back with every acknowledged set, at its version;
 * a torn last line is cut off with a warning; a home from before the
 * journal keeps its state.json state; the byte cap is PATTERND_STATE_MAX_BYTES.
 * On the old code there was no state.ndjson, no compaction and no byte cap.
 */
import { existsSync, watch } from "node:fs";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { cleanup, makeHome, readJsonLines, spawnDaemon, startDaemon, waitFor, type Daemon } from "./harness.js";

afterAll(cleanup);

type Msg = Record<string, unknown>;

/** 320 keys of ~10 KB (3.2 MB live): compaction starts once ~6.4 MB of sets were appended beyond them. */
const KEYS = 320;
const WRITERS = 8;
const PAD = "p".repeat(10_000);

interface Entry {
  key: string;
  value: { n: number; pad: string };
  version: number;
}

/**
 * What the test was told: per key, the last acknowledged set (its counter
 * n and version). Each key has one writer that waits for each reply, so at
 * most one set per key is unacknowledged when the daemon is killed.
 */
class Acks {
  readonly acked = new Map<string, { n: number; version: number }>();
  private readonly sent = new Map<string, number>();

  /** WRITERS writers, each setting its own keys in turn, until `stop()` or the connection dies. */
  async stream(client: Client, stop: () => boolean): Promise<number> {
    let acks = 0;
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = 0; !stop(); i++) {
          const key = `s.k${w + ((i * WRITERS) % KEYS)}`;
          const n = (this.sent.get(key) ?? 0) + 1;
          this.sent.set(key, n);
          let reply: Msg;
          try {
            reply = await client.request<Msg>("state:set", { key, value: { n, pad: PAD } });
          } catch {
            return; // killed
          }
          this.acked.set(key, { n, version: reply.version as number });
          acks++;
        }
      }),
    );
    return acks;
  }

  /** Every acknowledged set is there at its version (or the one set after it, sent but unacknowledged); then counts on from what is there. */
  async expectKept(client: Client): Promise<void> {
    const { entries } = await client.request<{ entries: Entry[] }>("state:list", { prefix: "s" });
    const byKey = new Map(entries.map((e) => [e.key, e]));
    for (const [key, acked] of this.acked) {
      const entry = byKey.get(key);
      expect(entry, `${key}: acknowledged at version ${acked.version}, gone after the restart`).toBeDefined();
      const ahead = entry!.value.n - acked.n;
      expect([0, 1], `${key}: acknowledged n ${acked.n}, found n ${entry!.value.n}`).toContain(ahead);
      expect(entry!.version, `${key}: version`).toBe(acked.version + ahead);
      expect(entry!.value.pad).toBe(PAD);
    }
    for (const entry of entries) {
      this.acked.set(entry.key, { n: entry.value.n, version: entry.version });
      this.sent.set(entry.key, entry.value.n);
    }
  }
}

const lib = (home: string) => join(home, "var", "lib");
const compactionTemp = (name: string) => /^\.state\.ndjson\.\d+\.tmp$/.test(name);

async function restarted(home: string, acks: Acks): Promise<{ daemon: Daemon; client: Client }> {
  const daemon = await startDaemon({ home });
  const client = await daemon.client();
  await acks.expectKept(client);
  expect((await readdir(lib(home))).filter(compactionTemp), "a compaction's temp file left after the restart").toEqual([]);
  return { daemon, client };
}

describe("state journal under SIGKILL", () => {
  it("every acknowledged set survives a kill in the middle of a stream of sets and in the middle of a compaction", async () => {
    const acks = new Acks();
    let daemon = await startDaemon();
    let client = await daemon.client();
    const home = daemon.home;
    for (let start = 0; start < KEYS; start += 40) {
      await Promise.all(Array.from({ length: 40 }, (_, i) => client.request("state:set", { key: `s.k${start + i}`, value: { n: 0, pad: PAD } })));
    }
    await acks.expectKept(client);

    // Killed at three points of a stream of sets.
    for (const after of [50, 333, 700]) {
      let acked = 0;
      const streaming = acks.stream(client, () => ++acked > after);
      await waitFor(`${after} sets acknowledged`, () => acked > after, 30_000);
      const exit = await daemon.kill();
      expect(exit.signal, `${JSON.stringify(exit)} ${daemon.stderr()}`).toBe("SIGKILL");
      await streaming;
      ({ daemon, client } = await restarted(home, acks));
    }

    // Killed as soon as a compaction creates its temp file, until one kill lands before its rename.
    let landed = 0;
    for (let attempt = 0; attempt < 5 && landed === 0; attempt++) {
      let killed = false;
      const victim = daemon;
      const watcher = watch(lib(home), (_, name) => {
        if (killed || name === null || !compactionTemp(name)) return;
        killed = true;
        victim.process.kill("SIGKILL");
      });
      try {
        const streaming = acks.stream(client, () => killed);
        await waitFor("a compaction to start", () => killed, 60_000, 5);
        await victim.kill();
        await streaming;
      } finally {
        watcher.close();
      }
      if ((await readdir(lib(home))).some(compactionTemp)) landed++;
      ({ daemon, client } = await restarted(home, acks));
    }
    expect(landed, "no kill landed in the middle of a compaction").toBeGreaterThan(0);

    // A compaction that completes shrinks the journal; a kill right after loses nothing either.
    const log = join(home, "var", "log", "daemon.log");
    const compacted = async () => (await readJsonLines(log)).filter((r) => r.msg === "state journal compacted").length;
    const before = await compacted();
    let done = false;
    const streaming = acks.stream(client, () => done);
    await waitFor("a compaction to complete", async () => (done = (await compacted()) > before), 60_000, 20);
    await streaming;
    const record = (await readJsonLines(log)).filter((r) => r.msg === "state journal compacted").at(-1)!;
    expect(record.after as number).toBeLessThan(record.before as number);
    expect((await stat(join(lib(home), "state.ndjson"))).size).toBeLessThan(4 * (KEYS * PAD.length) + 8 * 1024 * 1024);
    await daemon.kill();
    ({ daemon, client } = await restarted(home, acks));
    expect(await client.request("system:health", {})).toMatchObject({ status: "ok" });
    expect((await daemon.stop()).code).toBe(0);
  }, 180_000);
});

describe("a torn last line", () => {
  it("is cut off at start with a warning in daemon.log; the daemon serves the records before it", async () => {
    const home = await makeHome();
    await mkdir(lib(home), { recursive: true });
    const whole = '{"op":"set","key":"torn.kept","version":3,"value":"kept"}\n';
    await writeFile(join(lib(home), "state.ndjson"), whole + '{"op":"set","key":"torn.kept","version":4,"value":"never ackno');
    const daemon = await startDaemon({ home });
    const client = await daemon.client();
    expect(await client.request("state:get", { key: "torn.kept" })).toEqual({ key: "torn.kept", value: "kept", version: 3 });
    const warning = (await readJsonLines(join(home, "var", "log", "daemon.log"))).find((r) => r.level === 40 && String(r.msg).startsWith("state journal: the last line"));
    expect(warning).toMatchObject({ line: 2, offset: Buffer.byteLength(whole) });
    expect(await readFile(join(lib(home), "state.ndjson"), "utf8")).toBe(whole);
    expect(await client.request("state:set", { key: "torn.kept", value: "next" })).toMatchObject({ version: 4 });
  });
});

describe("a home from before the journal", () => {
  it("keeps its state.json state, versions included, with state.json kept as state.json.migrated", async () => {
    const home = await makeHome();
    await mkdir(lib(home), { recursive: true });
    const old = { "run_1.status": "done", counter: 400, $versions: { "run_1.status": 2, counter: 400 }, $highest_deleted_version: 7 };
    await writeFile(join(lib(home), "state.json"), JSON.stringify(old, null, 1) + "\n");
    const daemon = await startDaemon({ home });
    const client = await daemon.client();
    expect(await client.request("state:get", { key: "counter" })).toEqual({ key: "counter", value: 400, version: 400 });
    expect(await client.request("state:set", { key: "run_1.status", value: "again", expect: { version: 2 } })).toMatchObject({ version: 3 });
    expect(await client.request("state:set", { key: "fresh", value: 1 })).toMatchObject({ version: 8 });
    const reply = await client.request("event:emit", { event: "probe:migrated", condition: { "==": [{ var: "state.run_1.status" }, "again"] } });
    expect(reply).toMatchObject({ emitted: true });
    expect(existsSync(join(lib(home), "state.json"))).toBe(false);
    expect(JSON.parse(await readFile(join(lib(home), "state.json.migrated"), "utf8"))).toEqual(old);

    await daemon.kill();
    const again = await startDaemon({ home });
    const c2 = await again.client();
    expect(await c2.request("state:get", { key: "run_1.status" })).toEqual({ key: "run_1.status", value: "again", version: 3 });
    expect(await c2.request("state:get", { key: "counter" })).toMatchObject({ version: 400 });
  });
});

describe("the byte cap", () => {
  it("PATTERND_STATE_MAX_BYTES caps the state: a set past it is limit_exceeded naming the cap and the size, and the daemon serves on", async () => {
    const daemon = await startDaemon({ env: { PATTERND_STATE_MAX_BYTES: String(200 * 1024) } });
    const client = await daemon.client();
    const value = "c".repeat(60 * 1024);
    for (let i = 0; i < 3; i++) await client.request("state:set", { key: `cap.k${i}`, value });
    const reply = await client.send("state:set", { key: "cap.k3", value });
    expect(reply.ok).toBe(false);
    const error = (reply as unknown as { error: { code: string; message: string; details: Msg } }).error;
    expect(error.code).toBe("limit_exceeded");
    expect(error.message).toMatch(/at most 204800 bytes of keys and values \(PATTERND_STATE_MAX_BYTES\); it holds 184344, and this set would make it 245792; delete some keys first/);
    expect(error.details).toEqual({ limit: 204_800, size: 184_344, requested: 245_792 });
    expect((await client.send("state:get", { key: "cap.k3" })).ok).toBe(false);
    expect(await client.request("system:health", {})).toMatchObject({ status: "ok", state_bytes: 184_344 });
    await client.request("state:delete", { key: "cap.k0" });
    // Above the version cap.k0 had when deleted (1): versions never repeat for a key.
    expect(await client.request("state:set", { key: "cap.k3", value })).toMatchObject({ version: 2 });
  });

  it("a PATTERND_STATE_MAX_BYTES that is not a whole number of bytes stops the start, showing the right form", async () => {
    const proc = spawnDaemon(await makeHome(), [], { PATTERND_STATE_MAX_BYTES: "64MB" });
    expect((await proc.waitExit()).code).toBe(2);
    expect(proc.stderr()).toMatch(/PATTERND_STATE_MAX_BYTES must be a whole number of bytes ≥ 1, e\.g\. 67108864 \(got "64MB"\)/);
  });
});
