/**
 * A burst: thousands of delayed emits due at the same instant, one
 * subscriber reading everything, and system:health asked again and again
 * on another connection meanwhile. On the old code the whole burst fired in
 * one turn of the event loop (every health reply said either "all pending"
 * or "none"), and its pushes piled up unflushed until the turn ended. Now
 * it fires in slices that yield to I/O: a health request is answered
 * between slices (it sees part of the burst still pending), and the reader
 * gets every event, once, in order, with no monitor:dropped. A kill -9
 * mid-burst loses nothing acknowledged: what was not journaled done fires
 * once at the next start.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, readJsonLines, sleepTick, startDaemon, waitFor, type Daemon, type RawConnection } from "./harness.js";

afterAll(cleanup);

const BURST = 10_000;
/** How long before the burst the scheduling must be done; it takes well under a second on a quiet machine. */
const LEAD_MS = 4_000;

interface Push {
  event: string;
  seq: number;
  subscription: string;
  data: { n: number; subscription?: string };
}

/** The pushes received after the first `skip` lines (the replies). */
function pushesAfter(conn: RawConnection, skip: number): Push[] {
  return conn.lines.slice(skip).map((line) => JSON.parse(line) as Push);
}

/** A subscriber to burst:fire, then BURST emits of it due at one instant LEAD_MS ahead, every one acknowledged. */
async function scheduleBurst(daemon: Daemon): Promise<{ reader: RawConnection; fireAt: number }> {
  const reader = await daemon.raw();
  const [subscribed] = await reader.exchange({ event: "monitor:subscribe", id: "sub", data: { patterns: ["burst:fire"] } });
  expect(subscribed).toMatchObject({ ok: true });

  const scheduler = await daemon.raw();
  const fireAt = Date.now() + LEAD_MS;
  const at = new Date(fireAt).toISOString();
  const requests = Array.from({ length: BURST }, (_, n) => ({ event: "event:emit", id: n, data: { event: "burst:fire", data: { n }, at } }));
  const acks = await scheduler.exchange(...requests);
  expect(acks.filter((ack) => ack.ok !== true || (ack.data as { scheduled?: unknown }).scheduled !== true)).toEqual([]);
  scheduler.destroy();
  // Otherwise the burst would have begun while schedules were still being added.
  expect(Date.now(), "scheduling must end before the burst is due; the machine is too loaded").toBeLessThan(fireAt - 500);
  return { reader, fireAt };
}

interface JournalLine {
  op: string;
  schedule_id: string;
  data?: { n: number };
}

async function journalLines(home: string): Promise<JournalLine[]> {
  return (await readJsonLines(join(home, "var", "lib", "schedule.ndjson"))) as unknown as JournalLine[];
}

/** n of every burst:fire record in the event log. */
async function loggedFirings(home: string): Promise<number[]> {
  const dir = join(home, "var", "log", "events");
  const firings: number[] = [];
  for (const name of (await readdir(dir)).sort()) {
    for (const record of await readJsonLines(join(dir, name))) {
      if (record.event === "burst:fire") firings.push((record.data as { n: number }).n);
    }
  }
  return firings;
}

describe("a burst of delayed emits due at the same instant", () => {
  it("fires in slices: another connection is answered mid-burst, and a reader gets every event in order", async () => {
    const daemon = await startDaemon();
    const { reader, fireAt } = await scheduleBurst(daemon);

    // system:health on its own connection, one after another, from just before the burst until the reader has it all.
    const pinger = await daemon.raw();
    const pendingSeen: number[] = [];
    let readerDone = false;
    await sleepTick(fireAt - Date.now() - 200);
    const pinging = (async () => {
      for (let id = 0; !readerDone; id++) {
        const [reply] = await pinger.exchange({ event: "system:health", id });
        expect(reply).toMatchObject({ ok: true, id });
        pendingSeen.push((reply!.data as { scheduled: number }).scheduled);
      }
    })();
    await reader.waitLines(1 + BURST, 30_000);
    readerDone = true;
    await pinging;

    // A health request was answered while part of the burst was still pending.
    expect(pendingSeen[0]).toBe(BURST);
    expect(pendingSeen.some((pending) => pending > 0 && pending < BURST)).toBe(true);

    // Every event once, in fire order (the order they were scheduled in), with increasing seq; nothing dropped.
    await sleepTick(100);
    const pushes = pushesAfter(reader, 1);
    expect(pushes.filter((push) => push.event !== "burst:fire")).toEqual([]);
    expect(pushes).toHaveLength(BURST);
    expect(pushes.every((push, i) => push.data.n === i)).toBe(true);
    expect(pushes.every((push, i) => i === 0 || push.seq > pushes[i - 1]!.seq)).toBe(true);

    // The journal marked every one done (or was compacted down to nothing pending).
    const journal = await journalLines(daemon.home);
    const done = new Set(journal.filter((r) => r.op === "done").map((r) => r.schedule_id));
    expect(journal.filter((r) => r.op === "add" && !done.has(r.schedule_id))).toEqual([]);

    // And the daemon still serves.
    const [after] = await pinger.exchange({ event: "system:health", id: "after" });
    expect(after).toMatchObject({ ok: true, data: { status: "ok", scheduled: 0 } });
  });

  it("killed with -9 mid-burst, it loses nothing acknowledged and fires nothing twice", async () => {
    const first = await startDaemon();
    const { reader } = await scheduleBurst(first);
    // Mid-burst: some pushes are out, most of the burst is not fired yet.
    await reader.waitLines(1 + 1_000, 30_000);
    await first.kill();
    const pushed = pushesAfter(reader, 1).map((push) => push.data.n);
    const journaledDone = new Map<string, boolean>();
    const idOf = new Map<number, string>();
    for (const line of await journalLines(first.home)) {
      if (line.op === "add") idOf.set(line.data!.n, line.schedule_id);
      if (line.op === "done") journaledDone.set(line.schedule_id, true);
    }
    expect(idOf.size).toBe(BURST);
    const doneBeforeKill = [...idOf].filter(([, id]) => journaledDone.has(id)).map(([n]) => n);
    expect(doneBeforeKill.length, "the kill must land mid-burst").toBeLessThan(BURST);
    // Pushed means fired, and fired means journaled done first.
    expect(pushed.every((n) => journaledDone.has(idOf.get(n)!))).toBe(true);

    // The next start fires the rest (overdue now), each once.
    const second = await startDaemon({ home: first.home });
    const client = await second.raw();
    await waitFor("the rest of the burst to fire", async () => {
      const [health] = await client.exchange({ event: "system:health", id: "h" });
      return (health!.data as { scheduled: number }).scheduled === 0;
    });
    expect(await second.stop()).toMatchObject({ code: 0 });

    const logged = await loggedFirings(first.home);
    expect(new Set(logged).size, "no schedule fired twice").toBe(logged.length);
    const fired = new Set([...logged, ...pushed]);
    const doneSet = new Set(doneBeforeKill);
    const neverFired = Array.from({ length: BURST }, (_, n) => n).filter((n) => !fired.has(n));
    // Without a trace of firing only those the killed daemon had marked done: fired as the kill came,
    // their pushes and log records not yet written; every one of them after the last push that got out.
    expect(neverFired.filter((n) => !doneSet.has(n))).toEqual([]);
    const lastPushed = Math.max(-1, ...pushed);
    expect(neverFired.filter((n) => n < lastPushed)).toEqual([]);
    // Every schedule not marked done before the kill fired after the restart.
    const loggedSet = new Set(logged);
    expect(Array.from({ length: BURST }, (_, n) => n).filter((n) => !doneSet.has(n) && !loggedSet.has(n))).toEqual([]);
  });
});
