/**
 * A damaged schedule journal (var/lib/schedule.ndjson) written into a home
 * before the daemon starts: the bad lines are skipped with a warning in
 * daemon.log naming each one (line, byte offset, excerpt, problem), a
 * byte-identical copy is kept beside the journal before it is rewritten,
 * and the good schedules still fire. On the old code the skip was one info
 * count with no copy, and a line that was JSON but not a record (`null`)
 * stopped the daemon from starting at all.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, makeHome, readJsonLines, startDaemon, waitFor } from "./harness.js";

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
