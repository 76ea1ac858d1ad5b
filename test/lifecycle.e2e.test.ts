/**
 * Daemon lifecycle (SPEC §1 paths, §6): one daemon per home, clean stops by
 * SIGTERM / SIGINT / system:shutdown, restart after kill -9, file modes, and
 * the two logs on disk.
 */
import { existsSync } from "node:fs";
import { chmod, lstat, mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, makeHome, readJsonLines, spawnDaemon, startDaemon, waitFor, type Daemon } from "./harness.js";
import { expectStoreTruth } from "./store-git.js";

afterAll(cleanup);

function expectCleanlyGone(daemon: Daemon): void {
  expect(existsSync(daemon.socketPath), "socket file removed").toBe(false);
  expect(existsSync(daemon.pidFile), "pid file removed").toBe(false);
}

async function eventRecords(home: string): Promise<Record<string, unknown>[]> {
  const dir = join(home, "var", "log", "events");
  const files = (await readdir(dir)).filter((name) => name.endsWith(".ndjson")).sort();
  const records: Record<string, unknown>[] = [];
  for (const file of files) records.push(...(await readJsonLines(join(dir, file))));
  return records;
}

describe("one daemon per home", () => {
  it("a second daemon on the same home exits non-zero naming the running pid; the first keeps serving", async () => {
    const first = await startDaemon();
    // it tells the user where it listens
    expect(await first.proc.waitForStdout(/listening on/)).toContain(first.socketPath);
    const second = spawnDaemon(first.home);
    const exit = await second.waitExit();
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(second.stderr()).toContain(String(first.pid));
    expect(second.stderr()).toMatch(/already running/);

    const client = await first.client();
    const health = await client.request<{ pid: number }>("system:health");
    expect(health.pid).toBe(first.pid);
    expect(existsSync(first.socketPath)).toBe(true);
    expect((await readFile(first.pidFile, "utf8")).trim()).toBe(String(first.pid));
  });

  it("after SIGKILL (stale socket and pid file left behind) a new daemon starts on the same home", async () => {
    const first = await startDaemon();
    const before = await first.client();
    const tag = `before-kill-${process.pid}`;
    await before.request("system:hello", { client: tag });
    await waitFor("the event to reach the event log file", async () =>
      (await eventRecords(first.home)).some((r) => (r.data as { client?: string }).client === tag),
    );
    const exit = await first.kill();
    expect(exit.signal).toBe("SIGKILL");
    expect(existsSync(first.socketPath), "stale socket left behind").toBe(true);
    expect(existsSync(first.pidFile), "stale pid file left behind").toBe(true);

    const second = await startDaemon({ home: first.home });
    expect(second.pid).not.toBe(first.pid);
    const client = await second.client();
    const health = await client.request<{ status: string; pid: number }>("system:health");
    expect(health).toMatchObject({ status: "ok", pid: second.pid });
    expect((await readFile(second.pidFile, "utf8")).trim()).toBe(String(second.pid));
    // the event log of the killed daemon is still there and readable
    const { events } = await client.request<{ events: { data: { client?: string } }[] }>("monitor:get_events", {
      patterns: ["system:hello"],
    });
    expect(events.map((e) => e.data.client)).toContain(tag);
    await expectStoreTruth(join(first.home, "var", "lib", "compositions"));
    const stopped = await second.stop();
    expect(stopped.code).toBe(0);
    expectCleanlyGone(second);
  });
});

describe("clean stops: exit 0, socket and pid file removed", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`${signal}`, async () => {
      const daemon = await startDaemon();
      // a connected client and events just sent do not hold the stop up, and the events are flushed to the log
      const client = await daemon.client();
      const tag = `${signal}-${process.pid}`;
      for (let i = 0; i < 20; i++) await client.request("system:hello", { client: `${tag}-${i}` });
      const closed = client.closed();
      const exit = await daemon.proc.signal(signal);
      expect(exit).toEqual({ code: 0, signal: null });
      await closed; // the daemon closed the client's connection
      expectCleanlyGone(daemon);
      const logged = (await eventRecords(daemon.home)).filter((r) => String((r.data as { client?: string }).client).startsWith(tag));
      expect(logged).toHaveLength(20);
    });
  }

  it("requests in flight when SIGTERM arrives are answered (or refused with shutting_down), in order", async () => {
    const daemon = await startDaemon();
    const raw = await daemon.raw();
    const count = 300;
    const lines = Array.from({ length: count }, (_, i) =>
      i % 2 === 0 ? { event: "monitor:get_events", data: { limit: 200 }, id: i } : { event: "system:health", id: i },
    );
    await raw.send(...lines);
    await raw.waitLines(1); // the daemon is reading them
    const exit = await daemon.proc.signal("SIGTERM");
    expect(exit).toEqual({ code: 0, signal: null });
    await raw.waitClosed();
    const replies = raw.messages();
    // every reply is for a request sent, in order, without gaps: no reply is lost before the last one
    expect(replies.map((r) => r.id)).toEqual(lines.slice(0, replies.length).map((l) => l.id));
    for (const reply of replies) {
      if (reply.ok !== true) expect((reply.error as { code: string }).code).toBe("shutting_down");
    }
    // what the daemon had read before the signal was answered
    expect(replies.length).toBeGreaterThan(1);
    expectCleanlyGone(daemon);
  });

  it("system:shutdown: the reply {stopping: true} arrives first, then a clean stop", async () => {
    const daemon = await startDaemon();
    const raw = await daemon.raw();
    await raw.send({ event: "system:shutdown", id: "bye" });
    const [reply] = await raw.waitLines(1);
    expect(reply).toEqual({ event: "system:shutdown", id: "bye", ok: true, data: { stopping: true } });
    const exit = await daemon.proc.waitExit();
    expect(exit, `the daemon's stderr: ${daemon.stderr()}`).toEqual({ code: 0, signal: null });
    await raw.waitClosed();
    expect(raw.lines).toHaveLength(1);
    expectCleanlyGone(daemon);
    // and the home can be started again
    const again = await startDaemon({ home: daemon.home });
    const client = await again.client();
    await expect(client.request("system:health")).resolves.toMatchObject({ status: "ok" });
  });
});

describe("files on disk", () => {
  it("the socket has mode 0600 and var/run mode 0700", async () => {
    const daemon = await startDaemon();
    const socket = await lstat(daemon.socketPath);
    expect(socket.isSocket()).toBe(true);
    expect(socket.mode & 0o777).toBe(0o600);
    const runDir = await lstat(join(daemon.home, "var", "run"));
    expect(runDir.isDirectory()).toBe(true);
    expect(runDir.mode & 0o777).toBe(0o700);
  });

  it("var/run is made private (0700) even if it already existed with looser permissions", async () => {
    const home = await makeHome();
    await mkdir(join(home, "var", "run"), { recursive: true, mode: 0o755 });
    await chmod(join(home, "var", "run"), 0o755);
    const daemon = await startDaemon({ home });
    expect((await lstat(join(home, "var", "run"))).mode & 0o777).toBe(0o700);
    expect((await lstat(daemon.socketPath)).mode & 0o777).toBe(0o600);
  });

  it("daemon.log is JSON lines with level, time and msg", async () => {
    const daemon = await startDaemon();
    const logPath = join(daemon.home, "var", "log", "daemon.log");
    await waitFor("daemon.log to record the start", async () =>
      existsSync(logPath) ? (await readFile(logPath, "utf8")).includes("daemon started") : false,
    );
    expect((await daemon.stop()).code).toBe(0);
    const text = await readFile(logPath, "utf8");
    const lines = text.split("\n").filter((line) => line.trim() !== "");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) {
      const record = JSON.parse(line) as { level: unknown; time: unknown; msg: unknown };
      expect(["number", "string"]).toContain(typeof record.level);
      expect(typeof record.time).toBe("string");
      expect(Number.isNaN(Date.parse(record.time as string))).toBe(false);
      expect(typeof record.msg).toBe("string");
    }
    const messages = lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toContain("daemon started");
    expect(messages.at(-1)).toBe("daemon stopped");
  });

  it("the event log var/log/events/YYYY-MM-DD.ndjson has one record per routed event", async () => {
    const daemon = await startDaemon();
    const client = await daemon.client({ agentId: "log-agent" });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const event = i % 3 === 0 ? "system:helth" : i % 3 === 1 ? "system:health" : "system:hello";
      const reply = await client.send(event, i % 3 === 2 ? { client: `log-${i}` } : {});
      ids.push(`${event}#${String((reply as { id: unknown }).id)}`);
    }
    // a rejected request with a big payload is logged too, its data truncated
    await client.send("monitor:subscribe", { patterns: 5, junk: "x".repeat(100_000) });

    const dir = join(daemon.home, "var", "log", "events");
    const records = await waitFor("the 31 records in the event log", async () => {
      const all = (await eventRecords(daemon.home)).filter((r) => r.agent_id === "log-agent");
      return all.length >= 31 ? all : null;
    });
    expect(records).toHaveLength(31);
    expect(records.slice(0, 30).map((r) => `${String(r.event)}#${String(r.id)}`)).toEqual(ids);
    for (const record of records) {
      for (const key of ["ts", "event", "id", "agent_id", "ok", "ms", "data"]) expect(record, key).toHaveProperty(key);
    }
    expect(records[0]).toMatchObject({ event: "system:helth", ok: false, code: "unknown_event" });
    expect(records[1]).toMatchObject({ event: "system:health", ok: true });
    expect(records[2]).toMatchObject({ event: "system:hello", ok: true, data: { client: "log-2" } });
    const big = records[30]!;
    expect(big).toMatchObject({ event: "monitor:subscribe", ok: false, code: "invalid_params" });
    expect(JSON.stringify(big.data).length).toBeLessThan(20_000);

    // every file is named after the UTC day of its records
    for (const file of await readdir(dir)) {
      expect(file).toMatch(/^\d{4}-\d{2}-\d{2}\.ndjson$/);
      for (const record of await readJsonLines(join(dir, file))) {
        expect(new Date(record.ts as string).toISOString().slice(0, 10)).toBe(file.slice(0, 10));
      }
    }
  });
});
