import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { manualClock, type ManualClock } from "../../core/clock.js";
import { DaemonError } from "../../core/errors.js";
import { silentLog } from "../../core/log.js";
import type { Schedule } from "./schedule-book.js";
import { FIRE_CHUNK, Scheduler, type FireSlice } from "./scheduler.js";

const T0 = 1_700_000_000_000;
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const DEADLINE_MS = 5_000;

let dir: string;
let journalPath: string;
const running: Scheduler[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "patternd-scheduler-"));
  journalPath = join(dir, "schedule.ndjson");
});
afterEach(async () => {
  for (const scheduler of running.splice(0)) await scheduler.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Polls `condition` until it holds; fails after a deadline instead of hanging. */
async function waitUntil(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function journalRecords(): { op: string; schedule_id: string }[] {
  return readFileSync(journalPath, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as { op: string; schedule_id: string });
}

interface Fired {
  id: string;
  lateMs: number;
  now: number;
  /** Whether the journal on disk already said "done" when fire was called. */
  doneOnDisk: boolean;
}

interface Options {
  clock?: ManualClock;
  maxPending?: number;
  fire?: (schedule: Schedule, lateMs: number) => Promise<void>;
  slice?: FireSlice;
}

async function start(options: Options = {}) {
  const clock = options.clock ?? manualClock(T0);
  const fired: Fired[] = [];
  /** For each settle: the schedules fired before it, counted in the same synchronous turn. */
  const settled: number[] = [];
  const started = await Scheduler.start({
    journalPath,
    clock,
    log: silentLog(),
    maxPending: options.maxPending ?? 1_000,
    ...(options.slice === undefined ? {} : { slice: options.slice }),
    fire: (schedule, lateMs) => {
      const doneOnDisk = journalRecords().some((r) => r.op === "done" && r.schedule_id === schedule.schedule_id);
      fired.push({ id: schedule.schedule_id, lateMs, now: clock.now(), doneOnDisk });
      return options.fire?.(schedule, lateMs) ?? Promise.resolve();
    },
    settle: () => settled.push(fired.length),
  });
  running.push(started.scheduler);
  return { ...started, clock, fired, settled };
}

async function stop(scheduler: Scheduler): Promise<void> {
  running.splice(running.indexOf(scheduler), 1);
  await scheduler.stop();
}

function schedule(id: string, fireAt: number, extra: Partial<Schedule> = {}): Schedule {
  return { schedule_id: id, event: "test:fired", data: { id }, fire_at: fireAt, created_at: T0, ...extra };
}

const ids = (items: readonly { schedule_id: string }[]) => items.map((s) => s.schedule_id);

describe("Scheduler", () => {
  it("fires in time order, never before fire_at, passing how late it fires", async () => {
    const { scheduler, clock, fired } = await start();
    await scheduler.add(schedule("c", T0 + 3_000));
    await scheduler.add(schedule("a", T0 + 1_000));
    await scheduler.add(schedule("b", T0 + 2_000));

    clock.advance(999);
    // Due schedules leave the book synchronously inside the timer: nothing was taken.
    expect(ids(scheduler.list())).toEqual(["a", "b", "c"]);

    clock.advance(1);
    expect(ids(scheduler.list())).toEqual(["b", "c"]);
    await waitUntil(() => fired.length === 1, "a to fire");
    expect(fired[0]).toMatchObject({ id: "a", lateMs: 0 });

    clock.advance(1_250);
    expect(ids(scheduler.list())).toEqual(["c"]);
    await waitUntil(() => fired.length === 2, "b to fire");
    // The manual clock runs each timer at the time it was due, as a live clock would.
    expect(fired[1]).toMatchObject({ id: "b", lateMs: 0 });

    clock.advance(10_000);
    await waitUntil(() => fired.length === 3, "c to fire");
    expect(fired[2]).toMatchObject({ id: "c", lateMs: 0 });
    expect(scheduler.size).toBe(0);
  });

  it("several overdue at once fire earliest first, each with its own lateness", async () => {
    const { scheduler, clock, fired } = await start();
    await scheduler.add(schedule("third", T0 - 100));
    await scheduler.add(schedule("second", T0 - 200));
    await scheduler.add(schedule("first", T0 - 300));
    await scheduler.add(schedule("later", T0 + 5_000));
    clock.advance(0);
    await waitUntil(() => fired.length === 3, "three fires");
    expect(fired.map((f) => [f.id, f.lateMs])).toEqual([
      ["first", 300],
      ["second", 200],
      ["third", 100],
    ]);
    expect(ids(scheduler.list())).toEqual(["later"]);
  });

  it("a cancelled schedule never fires, and stays cancelled after a restart", async () => {
    const { scheduler, clock, fired } = await start();
    await scheduler.add(schedule("by-id", T0 + 1_000));
    await scheduler.add(schedule("by-key", T0 + 1_500, { key: "k" }));
    await scheduler.add(schedule("sentinel", T0 + 2_000));
    expect((await scheduler.cancel({ schedule_id: "by-id" }))?.schedule_id).toBe("by-id");
    expect(await scheduler.cancel({ schedule_id: "by-id" })).toBeUndefined();
    expect((await scheduler.cancel({ key: "k" }))?.schedule_id).toBe("by-key");
    expect(await scheduler.cancel({ key: "k" })).toBeUndefined();
    expect(await scheduler.cancel({})).toBeUndefined();

    clock.advance(5_000);
    // Fires go out in time order, so anything cancelled-but-firing would come before the sentinel.
    await waitUntil(() => fired.some((f) => f.id === "sentinel"), "the sentinel to fire");
    expect(fired.map((f) => f.id)).toEqual(["sentinel"]);
    expect(journalRecords().filter((r) => r.op === "cancel").map((r) => r.schedule_id)).toEqual(["by-id", "by-key"]);

    await stop(scheduler);
    const restarted = await start({ clock: manualClock(T0 + 5_000) });
    expect(restarted.loaded).toBe(0);
  });

  it("a schedule with the key of a pending one replaces it; the old one never fires", async () => {
    const { scheduler, clock, fired } = await start();
    const old = schedule("old", T0 + 1_000, { key: "k" });
    expect(await scheduler.add(old)).toBeUndefined();
    expect(await scheduler.add(schedule("new", T0 + 3_000, { key: "k" }))).toEqual(old);
    expect(ids(scheduler.list())).toEqual(["new"]);

    clock.advance(1_500);
    expect(ids(scheduler.list())).toEqual(["new"]);
    clock.advance(1_500);
    await waitUntil(() => fired.length >= 1, "the replacement to fire");
    expect(fired.map((f) => f.id)).toEqual(["new"]);
  });

  it("beyond maxPending a new schedule is limit_exceeded, a replacement by key is not", async () => {
    const { scheduler } = await start({ maxPending: 2 });
    await scheduler.add(schedule("a", T0 + 1_000));
    await scheduler.add(schedule("b", T0 + 1_000, { key: "k" }));

    const refused = await scheduler.add(schedule("c", T0 + 1_000)).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(DaemonError);
    expect(refused).toMatchObject({ code: "limit_exceeded", details: { limit: 2 } });
    // A keyed schedule that replaces nothing counts as new.
    await expect(scheduler.add(schedule("c2", T0 + 1_000, { key: "other" }))).rejects.toMatchObject({ code: "limit_exceeded" });
    expect(ids(scheduler.list())).toEqual(["a", "b"]);

    expect((await scheduler.add(schedule("b2", T0 + 2_000, { key: "k" })))?.schedule_id).toBe("b");
    expect(ids(scheduler.list())).toEqual(["a", "b2"]);

    await scheduler.cancel({ schedule_id: "a" });
    await scheduler.add(schedule("c", T0 + 1_000));
    expect(scheduler.size).toBe(2);
    // Refused schedules were never journaled.
    expect(journalRecords().filter((r) => r.op === "add").map((r) => r.schedule_id)).toEqual(["a", "b", "b2", "c"]);
  });

  it("a schedule 29 days out fires after advancing that far, through timers of at most an hour", async () => {
    const clock = manualClock(T0);
    const delays: number[] = [];
    const setTimer = clock.setTimer.bind(clock);
    clock.setTimer = (callback, delayMs) => {
      delays.push(delayMs);
      return setTimer(callback, delayMs);
    };
    const { scheduler, fired } = await start({ clock });
    await scheduler.add(schedule("far", T0 + 29 * DAY));

    clock.advance(29 * DAY - 1);
    expect(scheduler.size).toBe(1);
    clock.advance(1);
    expect(scheduler.size).toBe(0);
    await waitUntil(() => fired.length === 1, "the far schedule to fire");
    expect(fired[0]).toMatchObject({ id: "far", lateMs: 0, now: T0 + 29 * DAY });
    expect(Math.max(...delays)).toBeLessThanOrEqual(HOUR);
    expect(delays.length).toBeGreaterThanOrEqual(29 * 24);
  });

  it("stop keeps pending schedules in the journal; a new scheduler loads and fires them", async () => {
    const first = await start();
    await first.scheduler.add(schedule("early", T0 + 1_000));
    const kept = schedule("kept", T0 + 2_000, { key: "k", condition: { "==": [1, 1] }, agent_id: "agent-1", data: { n: [1, 2] } });
    await first.scheduler.add(kept);
    first.clock.advance(1_000);
    await waitUntil(() => first.fired.length === 1, "early to fire");
    await stop(first.scheduler);

    const second = await start({ clock: manualClock(T0 + 1_000) });
    expect(second.loaded).toBe(1);
    expect(second.scheduler.list()).toEqual([kept]);
    second.clock.advance(999);
    expect(second.scheduler.size).toBe(1);
    second.clock.advance(1);
    await waitUntil(() => second.fired.length === 1, "kept to fire after the restart");
    expect(second.fired[0]).toMatchObject({ id: "kept", lateMs: 0 });
  });

  it("the done record is on disk before fire is called", async () => {
    const { scheduler, clock, fired } = await start();
    await scheduler.add(schedule("a", T0 + 100));
    await scheduler.add(schedule("b", T0 + 100));
    await scheduler.add(schedule("c", T0 + 200));
    clock.advance(500);
    await waitUntil(() => fired.length === 3, "three fires");
    expect(fired.map((f) => [f.id, f.doneOnDisk])).toEqual([
      ["a", true],
      ["b", true],
      ["c", true],
    ]);
  });

  it("what a chunk of fires published is written out in the turn that journaled them done", async () => {
    const { scheduler, clock, fired, settled } = await start();
    for (const id of ["a", "b", "c"]) await scheduler.add(schedule(id, T0 + 100));
    await scheduler.add(schedule("d", T0 + 300));
    clock.advance(150);
    // fire is called synchronously for the whole chunk, then settle, before anything else runs.
    expect(fired.map((f) => f.id)).toEqual(["a", "b", "c"]);
    expect(settled).toEqual([3]);
    clock.advance(200);
    expect(settled).toEqual([3, 4]);
  });

  it("schedules overdue at start fire once, with their lateness", async () => {
    const first = await start();
    await first.scheduler.add(schedule("a", T0 + 1_000));
    await first.scheduler.add(schedule("b", T0 + 5_000));
    await stop(first.scheduler);

    const second = await start({ clock: manualClock(T0 + 61_000) });
    expect(second.loaded).toBe(2);
    second.clock.advance(0);
    await waitUntil(() => second.fired.length === 2, "the overdue schedules to fire");
    expect(second.fired.map((f) => [f.id, f.lateMs])).toEqual([
      ["a", 60_000],
      ["b", 56_000],
    ]);
    await stop(second.scheduler);

    const third = await start({ clock: manualClock(T0 + 62_000) });
    expect(third.loaded).toBe(0);
  });

  it("stop waits for a batch that is already firing", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { scheduler, clock, fired } = await start({ fire: () => gate });
    await scheduler.add(schedule("slow", T0 + 10));
    clock.advance(10);
    await waitUntil(() => fired.length === 1, "the slow fire to start");
    let stopped = false;
    running.splice(running.indexOf(scheduler), 1);
    const stopping = scheduler.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(stopped).toBe(true);
  });

  it("a fire that fails does not stop the ones after it", async () => {
    const { scheduler, clock, fired } = await start({
      fire: (s) => (s.schedule_id === "bad" ? Promise.reject(new Error("handler failed")) : Promise.resolve()),
    });
    await scheduler.add(schedule("bad", T0 + 10));
    await scheduler.add(schedule("good", T0 + 10));
    await scheduler.add(schedule("later", T0 + 20));
    clock.advance(20);
    await waitUntil(() => fired.length === 3, "all three fires");
    expect(fired.map((f) => f.id)).toEqual(["bad", "good", "later"]);
  });

  describe("a burst due at once fires in slices that yield to I/O", () => {
    /**
     * `count` schedules b000…, all overdue at T0 (so one timer finds them all due), their fire_at
     * scrambled over the 400 ms before; returns them earliest first (ties in add order).
     */
    async function addBurst(scheduler: Scheduler, count: number): Promise<string[]> {
      const burst = Array.from({ length: count }, (_, i) => schedule(`b${String(i).padStart(3, "0")}`, T0 - ((i * 7) % 5) * 100));
      await Promise.all(burst.map((s) => scheduler.add(s)));
      return [...burst].sort((a, b) => a.fire_at - b.fire_at).map((s) => s.schedule_id);
    }

    it("one slice per turn, earliest first, each once and journaled done first; the book serves requests between slices", async () => {
      const { scheduler, clock, fired } = await start({ slice: { budgetMs: Infinity, maxFires: 100 } });
      const expected = await addBurst(scheduler, 250);
      await scheduler.add(schedule("later", T0 + 5_000));

      clock.advance(0);
      // The first slice fired inside the timer; the rest is still pending in the book.
      expect(fired.map((f) => f.id)).toEqual(expected.slice(0, 100));
      expect(scheduler.size).toBe(151);

      // Between slices a request is served as usual: list, cancel a due one, add one due now.
      expect(ids(scheduler.list()).slice(0, 3)).toEqual(expected.slice(100, 103));
      expect((await scheduler.cancel({ schedule_id: expected[120]! }))?.schedule_id).toBe(expected[120]);
      await scheduler.add(schedule("joined", T0));

      expect(clock.turn()).toBe(1);
      expect(fired).toHaveLength(200);
      expect(clock.turn()).toBe(1);
      expect(fired).toHaveLength(250);
      // The burst is over: nothing deferred, the timer waits for "later".
      expect(clock.turn()).toBe(0);
      const burstOrder = [...expected.filter((id) => id !== expected[120]), "joined"];
      expect(fired.map((f) => f.id)).toEqual(burstOrder);
      expect(fired.every((f) => f.doneOnDisk)).toBe(true);
      expect(ids(scheduler.list())).toEqual(["later"]);

      clock.advance(5_000);
      expect(fired.at(-1)?.id).toBe("later");
      expect(fired).toHaveLength(251);
      expect(journalRecords().filter((r) => r.op === "done")).toHaveLength(251);
    });

    it("a slice whose time budget is spent ends after its chunk; the next turn goes on", async () => {
      const { scheduler, clock, fired } = await start({ slice: { budgetMs: 0, maxFires: 1_000 } });
      const expected = await addBurst(scheduler, 150);
      clock.advance(0);
      const perTurn = [fired.length];
      while (clock.turn() > 0) perTurn.push(fired.length);
      expect(perTurn).toEqual([FIRE_CHUNK, 2 * FIRE_CHUNK, 150]);
      expect(fired.map((f) => f.id)).toEqual(expected);
    });

    it("stopped mid-burst, it leaves the rest pending in the journal; the next start fires each of them once", async () => {
      const first = await start({ slice: { budgetMs: Infinity, maxFires: 100 } });
      const expected = await addBurst(first.scheduler, 250);
      first.clock.advance(0);
      expect(first.fired).toHaveLength(100);
      await stop(first.scheduler);
      first.clock.turn(); // the deferred slice finds the scheduler stopped

      const second = await start({ clock: manualClock(T0) });
      expect(second.loaded).toBe(150);
      second.clock.advance(0);
      while (second.clock.turn() > 0);
      expect([...first.fired, ...second.fired].map((f) => f.id)).toEqual(expected);
      expect(first.fired).toHaveLength(100);
    });
  });
});
