/**
 * The schedule journal end to end. A damaged schedule journal (var/lib/schedule.ndjson) written into a home
 * before the daemon starts: the bad lines are skipped with a warning in
 * daemon.log naming each one (line, byte offset, excerpt, problem), a
 * byte-identical copy is kept beside the journal before it is rewritten,
 * and the good schedules still fire. On the old code the skip was one info
 * count with no copy, and a line that was JSON but not a record (`null`)
 * stopped the daemon from starting at all.
 *
 * A daemon killed with SIGKILL in the middle of a compaction (which now
 * writes its file off the loop while appends go on, issue 22) comes back
 * with exactly the schedules it acknowledged.
 */
import { existsSync, watch } from "node:fs";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { cleanup, makeHome, readJsonLines, startDaemon, waitFor, type Daemon } from "./harness.js";

afterAll(cleanup);

interface DamagedLine {
  line: number;
  offset: number;
  excerpt: string;
  problem: string;
}

describe("a damaged schedule journal", () => {
  it("is loaded without its bad lines, with a warning naming each and a copy kept; the good schedules fire", async () => {
    const home = await makeHome();
    const lib = join(home, "var", "lib");
    await mkdir(lib, { recursive: true });
    const journal = join(lib, "schedule.ndjson");
    const run = `journal_${process.pid}`;
    const fireAt = Date.now() + 1_500;
    const good = (id: string) =>
      JSON.stringify({ op: "add", schedule_id: id, event: "state:set", data: { key: `${run}.${id}`, value: "fired" }, fire_at: fireAt, created_at: Date.now() });
    const lines = [
      good("first") + "\n",
      "\u0000\u0001 garbage from a bad disk \u00ff\n",
      JSON.stringify({ op: "add", schedule_id: "bad_time", event: "state:set", data: { key: `${run}.bad`, value: 1 }, fire_at: "soon", created_at: 1 }) + "\n",
      "null\n",
      good("second") + "\n",
      '{"op":"add","schedule_id":"torn","event":"state:se',
    ];
    const damaged = Buffer.from(lines.join(""));
    await writeFile(journal, damaged);
    const offsetOf = (line: number) => Buffer.byteLength(lines.slice(0, line - 1).join(""));

    const daemon = await startDaemon({ home });

    // the warning, in daemon.log's JSON lines
    const daemonLog = join(home, "var", "log", "daemon.log");
    const warning = await waitFor("the damaged-journal warning in daemon.log", async () =>
      (await readJsonLines(daemonLog)).find((r) => r.level === 40 && String(r.msg).startsWith("schedule journal damaged")),
    );
    const copyNames = (await readdir(lib)).filter((name) => name.startsWith("schedule.ndjson.damaged-"));
    expect(copyNames).toHaveLength(1);
    const copy = join(lib, copyNames[0]!);
    expect(warning).toMatchObject({ path: journal, copy, skipped: 4, loaded: 2 });
    const named = warning.lines as DamagedLine[];
    expect(named.map(({ line, offset }) => ({ line, offset }))).toEqual([2, 3, 4, 6].map((line) => ({ line, offset: offsetOf(line) })));
    expect(named[0]!.excerpt).toContain("garbage from a bad disk");
    expect(named[1]!.problem).toBe('fire_at must be a number of epoch milliseconds (got "soon")');
    expect(named[2]).toMatchObject({ excerpt: "null", problem: "not a record object: null" });
    expect(named[3]!.problem).toMatch(/torn by a crash/);
    expect(String(warning.msg)).toContain(`line 2 at byte ${offsetOf(2)}`);
    expect(String(warning.msg)).toContain(copy);

    // the copy is the journal as it was, byte for byte; the journal now holds only the good schedules
    expect((await readFile(copy)).equals(damaged)).toBe(true);
    const rewritten = (await readFile(journal, "utf8")).split("\n").filter((line) => line !== "");
    // (A start slower than the 1.5 s to fire_at has appended their "done" records already: the adds are what was rewritten.)
    const records = rewritten.map((line) => JSON.parse(line) as { op: string; schedule_id: string });
    expect(records.filter((r) => r.op === "add").map((r) => r.schedule_id)).toEqual(["first", "second"]);
    expect(records.filter((r) => r.op !== "add").every((r) => r.op === "done" && ["first", "second"].includes(r.schedule_id))).toBe(true);

    // the good schedules fire; the one with the text fire_at never does
    const client = await daemon.client();
    for (const id of ["first", "second"]) {
      await waitFor(`schedule ${id} to fire`, async () => {
        const reply = await client.request<{ value: unknown }>("state:get", { key: `${run}.${id}` }).catch(() => undefined);
        return reply?.value === "fired";
      });
    }
    await expect(client.request("state:get", { key: `${run}.bad` })).rejects.toThrow();
    expect(await client.request("system:health")).toMatchObject({ status: "ok", scheduled: 0 });

    // a restart over the repaired journal makes no second copy and no second warning
    expect((await daemon.stop()).code).toBe(0);
    const again = await startDaemon({ home });
    expect(await (await again.client()).request("system:health")).toMatchObject({ status: "ok" });
    expect((await readdir(lib)).filter((name) => name.startsWith("schedule.ndjson.damaged-"))).toEqual(copyNames);
    const warnings = (await readJsonLines(daemonLog)).filter((r) => r.level === 40 && String(r.msg).startsWith("schedule journal damaged"));
    expect(warnings).toHaveLength(1);
    expect(existsSync(journal)).toBe(true);
  });
});

/** Pending schedules of ~5 KB each (10 MB of live lines): a compaction takes long enough for a kill to land in it. */
const BASE = 2_000;
const PAD = "p".repeat(5_000);
const WRITERS = 8;
const compactionTemp = (name: string) => /^\.schedule\.ndjson\.\S+\.tmp$/.test(name);

/**
 * What the test was told. Each writer schedules an emit an hour away,
 * waits for its reply, cancels it, waits again: at a kill, at most one
 * request per writer is unanswered, and its schedule may be either way.
 */
class Acks {
  readonly pending = new Set<string>();
  readonly cancelled = new Set<string>();
  readonly unsure = new Set<string>();

  async stream(client: Client, stop: () => boolean): Promise<void> {
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = 0; !stop(); i++) {
          let id: string | undefined;
          try {
            id = (await client.request<{ schedule_id: string }>("event:emit", { event: "journal:tick", data: { w, i }, delay: 3_600 })).schedule_id;
            this.pending.add(id);
            this.unsure.add(id);
            await client.request("event:cancel", { schedule_id: id });
            this.unsure.delete(id);
            this.pending.delete(id);
            this.cancelled.add(id);
          } catch {
            return; // killed (an emit sent but unanswered was never told, so it is not counted)
          }
        }
      }),
    );
  }

  /** Every acknowledged schedule is pending, no acknowledged cancel is back; the one in flight per writer may be either. */
  async expectKept(client: Client): Promise<void> {
    // The base schedules are never cancelled: their count says they are all there (listing their 10 MB would be a large reply).
    expect((await client.request<{ total: number }>("event:scheduled", { event: "journal:base", limit: 1 })).total).toBe(BASE);
    const listed = await client.request<{ schedules: { schedule_id: string }[] }>("event:scheduled", { event: "journal:tick", limit: 10_000 });
    const ids = new Set(listed.schedules.map((s) => s.schedule_id));
    for (const id of this.pending) if (!this.unsure.has(id)) expect(ids.has(id), `acknowledged schedule ${id}`).toBe(true);
    for (const id of this.cancelled) expect(ids.has(id), `cancelled schedule ${id} came back`).toBe(false);
    // An emit in flight at the kill may have been journaled without its reply: at most one per writer.
    const unknown = [...ids].filter((id) => !this.pending.has(id));
    expect(unknown.length, `schedules nobody was told about: ${unknown.join(", ")}`).toBeLessThanOrEqual(WRITERS);
    // A cancel in flight at the kill: the schedule may stay; it is pending from now on.
    for (const id of this.unsure) if (!ids.has(id)) this.pending.delete(id);
    this.unsure.clear();
    for (const id of unknown) this.pending.add(id);
  }
}

describe("the schedule journal under SIGKILL", () => {
  it("a kill in the middle of a compaction loses no acknowledged schedule and brings back no cancelled one", async () => {
    const acks = new Acks();
    let daemon: Daemon = await startDaemon();
    let client = await daemon.client();
    const home = daemon.home;
    const lib = join(home, "var", "lib");
    for (let start = 0; start < BASE; start += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => client.request("event:emit", { event: "journal:base", data: { n: start + i, pad: PAD }, delay: 3_600 })));
    }
    const restarted = async () => {
      daemon = await startDaemon({ home });
      client = await daemon.client();
      await acks.expectKept(client);
      expect((await readdir(lib)).filter(compactionTemp), "a compaction's temp file left after the restart").toEqual([]);
    };

    // Killed as soon as a compaction creates its temp file, until one kill lands before its rename.
    let landed = 0;
    for (let attempt = 0; attempt < 5 && landed === 0; attempt++) {
      let killed = false;
      const victim = daemon;
      const watcher = watch(lib, (_, name) => {
        if (killed || name === null || !compactionTemp(name)) return;
        killed = true;
        victim.process.kill("SIGKILL");
      });
      try {
        const streaming = acks.stream(client, () => killed);
        await waitFor("a compaction to start", () => killed, 120_000, 5);
        expect((await victim.kill()).signal).toBe("SIGKILL");
        await streaming;
      } finally {
        watcher.close();
      }
      if ((await readdir(lib)).some(compactionTemp)) landed++;
      await restarted();
    }
    expect(landed, "no kill landed in the middle of a compaction").toBeGreaterThan(0);

    // A compaction that completes shrinks the journal to about the live schedules; a kill right after loses nothing either.
    const log = join(home, "var", "log", "daemon.log");
    const compactions = async () => (await readJsonLines(log)).filter((r) => r.msg === "schedule journal compacted").length;
    const before = await compactions();
    let done = false;
    const streaming = acks.stream(client, () => done);
    await waitFor("a compaction to complete", async () => (done = (await compactions()) > before), 120_000, 20);
    await streaming;
    expect((await stat(join(lib, "schedule.ndjson"))).size).toBeLessThan(BASE * (PAD.length + 400) + 2 * 1024 * 1024);
    await daemon.kill();
    await restarted();
    expect(await client.request("system:health")).toMatchObject({ status: "ok" });
    expect((await daemon.stop()).code).toBe(0);
  }, 240_000);
});
