/**
 * `pat send EVENT --key value` types its values by the event's params
 * without asking system:help on every call (issue 16, item 4): it keeps the
 * daemon's schemas in HOME/var/cache/pat-params.json for that daemon
 * instance. Counted in the daemon's own event log (monitor:get_events),
 * which records every routed request. A copy that turns out stale never
 * mistypes a value: a call the daemon refuses as invalid_params is typed
 * again from the daemon's schema and sent once more.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { cleanup, startDaemon, waitFor } from "./harness.js";
import { json, pat } from "./pat-process.js";

afterAll(cleanup);

interface LogRecord {
  event: string;
  ok: boolean;
  code?: string;
  data: Record<string, unknown>;
}

/** The event log's records of `pattern`, once it holds at least `atLeast` of `event` (the last request waited for). */
async function logged(client: Client, pattern: string, event: string, atLeast: number): Promise<LogRecord[]> {
  return waitFor(`${atLeast} ${event} in the event log`, async () => {
    const { events } = await client.request<{ events: LogRecord[] }>("monitor:get_events", { patterns: [pattern, event], limit: 1000 });
    return events.filter((record) => record.event === event).length >= atLeast ? events : undefined;
  });
}

const helps = (records: LogRecord[]) => records.filter((record) => record.event === "system:help").map((record) => record.data.event);

describe("pat send --key value: the params schemas are kept per daemon", () => {
  it("a second pat send state:set --key k --value 1 sends no system:help; the value is typed (a number) all the same", async () => {
    const d = await startDaemon();
    const client = await d.client();
    for (const value of ["1", "2"]) {
      const run = await pat(d.home, ["send", "state:set", "--key", "k", "--value", value]);
      expect(run.code, run.stderr).toBe(0);
    }
    const records = await logged(client, "system:help", "state:set", 2);
    // The first call asks once; the second types from the kept copy.
    expect(helps(records)).toEqual(["state:set"]);
    expect(records.filter((record) => record.event === "state:set").map((record) => record.data.value)).toEqual([1, 2]);
    expect((await client.request<{ value: unknown }>("state:get", { key: "k" })).value).toBe(2);
    const cache = JSON.parse(await readFile(join(d.home, "var", "cache", "pat-params.json"), "utf8")) as { events: Record<string, unknown> };
    expect(Object.keys(cache.events)).toEqual(["state:set"]);
    expect((await client.request<{ status: string }>("system:health")).status).toBe("ok");
  });

  it("a restarted daemon (new code would come this way) is asked again, once", async () => {
    const first = await startDaemon();
    expect((await pat(first.home, ["send", "state:set", "--key", "k", "--value", "1"])).code).toBe(0);
    await first.stop();
    const second = await startDaemon({ home: first.home });
    for (const value of ["2", "3"]) expect((await pat(second.home, ["send", "state:set", "--key", "k", "--value", value])).code).toBe(0);
    // The event log is the home's: it holds both daemons' requests.
    expect(helps(await logged(await second.client(), "system:help", "state:set", 3))).toEqual(["state:set", "state:set"]);
  });

  it("a stale copy (a value typed wrongly, a key it lacks): refused calls are typed again from the daemon's schema and sent once more", async () => {
    const d = await startDaemon();
    const client = await d.client();
    expect((await pat(d.home, ["send", "state:set", "--key", "k", "--value", "1"])).code).toBe(0);
    const path = join(d.home, "var", "cache", "pat-params.json");
    const cache = JSON.parse(await readFile(path, "utf8")) as { daemon: string; events: Record<string, unknown> };
    // As an older daemon might have described them: limit as text, and no patterns key at all.
    const stale = () => writeFile(path, JSON.stringify({ ...cache, events: { ...cache.events, "monitor:get_events": { type: "object", properties: { limit: { type: "string" } }, additionalProperties: false } } }));
    await stale();

    const run = await pat(d.home, ["send", "monitor:get_events", "--patterns", "state:set", "--limit", "5"]);
    expect(run.code, run.stderr).toBe(0);
    expect(json<{ events: LogRecord[] }>(run).events.map((record) => record.event)).toEqual(["state:set"]);
    await stale();
    const limited = await pat(d.home, ["send", "monitor:get_events", "--limit", "1"]);
    expect(limited.code, limited.stderr).toBe(0);
    expect(json<{ events: unknown[] }>(limited).events).toHaveLength(1);

    const records = await logged(client, "system:help", "monitor:get_events", 3);
    // --patterns, unknown to the copy, made pat ask before sending; --limit 1 was typed as text from the copy,
    // refused by the daemon (nothing done), typed again from its schema and sent again.
    expect(helps(records)).toEqual(["state:set", "monitor:get_events", "monitor:get_events"]);
    const calls = records.filter((record) => record.event === "monitor:get_events").slice(0, 3);
    expect(calls.map((record) => [record.ok, record.code, record.data.limit])).toEqual([
      [true, undefined, 5],
      [false, "invalid_params", "1"],
      [true, undefined, 1],
    ]);
    const kept = JSON.parse(await readFile(path, "utf8")) as { events: Record<string, { properties: Record<string, unknown> }> };
    expect(Object.keys(kept.events["monitor:get_events"]!.properties)).toContain("patterns");
  });
});
