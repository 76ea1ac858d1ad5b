import { describe, expect, it } from "vitest";
import { resumePlan, type Instance, type Position } from "./watch.js";

const T0 = Date.UTC(2026, 10, 21, 10, 0, 0);
const daemon: Instance = { pid: 4242, startedAt: T0 };
const at = (seq: number, instance: Instance = daemon): Position => ({ instance, seq });

describe("pat watch --retry: where to subscribe from after (re)connecting", () => {
  it.each<[string, Position | undefined, Instance, ReturnType<typeof resumePlan>]>([
    ["first connection: live events only", undefined, daemon, { fresh: false }],
    ["first connection after waiting for the daemon to start: from its first event", undefined, daemon, { sinceSeq: 0, fresh: false }],
    ["the same daemon: after the last seq seen", at(17), daemon, { sinceSeq: 17, fresh: false }],
    ["the same daemon, its start time read 1.5 s apart (uptime_s rounding, latency)", at(17), { pid: 4242, startedAt: T0 + 1_500 }, { sinceSeq: 17, fresh: false }],
    ["another pid: a fresh instance, from its first event", at(17), { pid: 5151, startedAt: T0 + 60_000 }, { sinceSeq: 0, fresh: true }],
    ["the same pid started later (a container's pid 1): a fresh instance", at(17), { pid: 4242, startedAt: T0 + 60_000 }, { sinceSeq: 0, fresh: true }],
    ["nothing seen yet on the same daemon: from seq 0 of it", at(0), daemon, { sinceSeq: 0, fresh: false }],
  ])("%s", (what, previous, instance, expected) => {
    expect(resumePlan(previous, instance, what.includes("waiting"))).toEqual(expected);
  });
});
