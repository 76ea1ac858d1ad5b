/**
 * `pat watch --retry` end to end (issue 16, item 7): the compiled `pat`
 * as a child process watching a real daemon that stops and starts again in
 * the same home. Without --retry a daemon that goes away ends the watch
 * (exit 3, as before). With it the watch reconnects: to the same daemon it
 * resumes after the last seq it printed (events sent while it was away are
 * replayed, once); to a restarted daemon (a fresh instance, numbering its
 * events from 1 again) it says so in the output and prints that daemon's
 * events from its first. The same-daemon case cuts the connection with a
 * socket relay between pat and the daemon (the daemon itself never drops a
 * healthy connection).
 */
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import type { Client } from "../client/index.js";
import { cleanup, DaemonProcess, makeHome, startDaemon, waitFor } from "./harness.js";
import { hasScript, PAT, spawnPat } from "./pat-process.js";

afterAll(cleanup);

type Line = Record<string, unknown>;

/** The JSON lines pat printed so far (pushes, and --retry's notices). */
function lines(watch: DaemonProcess): Line[] {
  return watch
    .stdout()
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Line);
}

/** What the watch printed, in order: `key=value` for each state:set push, the notices by name. */
function story(watch: DaemonProcess): string[] {
  return lines(watch).map((line) =>
    typeof line.notice === "string" ? String(line.notice) : `${(line.data as { key: string }).key}=${JSON.stringify((line.data as { value: unknown }).value)}`,
  );
}

async function set(client: Client, key: string, value: unknown): Promise<void> {
  await client.request("state:set", { key, value });
}

/** Sets watch.ready until the watch has printed it: then its subscription is live. */
async function untilWatching(watch: DaemonProcess, client: Client): Promise<void> {
  let round = 0;
  await waitFor("pat watch to print an event", async () => {
    await set(client, "ready", ++round);
    return watch.stdout().includes('"ready"');
  }, 15_000, 100);
}

describe("pat watch: a daemon that goes away", () => {
  it("without --retry: the watch ends with exit 3 and says the daemon closed the connection (as before)", async () => {
    const d = await startDaemon();
    const watch = spawnPat(d.home, ["watch", "state:set"]);
    try {
      await untilWatching(watch, await d.client());
      await d.stop();
      const exit = await watch.waitExit();
      expect(exit.code).toBe(3);
      expect(watch.stderr()).toContain("the daemon closed the connection");
    } finally {
      await watch.signal("SIGKILL");
    }
  });

  it("--retry across a restart: events before, a fresh_instance notice, then the new daemon's events from its first (JSON with --json)", async () => {
    const first = await startDaemon();
    const home = first.home;
    const watch = spawnPat(home, ["watch", "state:set", "--retry", "--json"]);
    try {
      const before = await first.client();
      await untilWatching(watch, before);
      await set(before, "a", 1);
      await set(before, "a", 2);
      await waitFor("a=2 printed", () => story(watch).includes("a=2"));
      await first.stop();
      await watch.waitForStderr(/the daemon closed the connection; reconnecting \(--retry\)/);
      expect(watch.exitStatus()).toBeNull();

      const second = await startDaemon({ home });
      const after = await second.client();
      // b=1 may be routed before pat reconnects: it is printed all the same (replayed from the new daemon's start).
      await set(after, "b", 1);
      await waitFor("the fresh_instance notice", () => story(watch).includes("fresh_instance"));
      await set(after, "b", 2);
      await waitFor("b=2 printed", () => story(watch).includes("b=2"));

      expect(story(watch).filter((entry) => !entry.startsWith("ready="))).toEqual(["a=1", "a=2", "fresh_instance", "b=1", "b=2"]);
      const notice = lines(watch).find((line) => line.notice === "fresh_instance")!;
      expect(notice).toMatchObject({ pid: second.pid, previous_pid: first.pid });
      expect(notice.previous_seq).toBeGreaterThan(2);
      // The new daemon numbers its events from 1 again.
      const seqOf = (key: string) => lines(watch).find((line) => (line.data as { key?: string } | undefined)?.key === key)!.seq as number;
      expect(seqOf("b")).toBeLessThan(seqOf("a"));
      expect(watch.stderr()).not.toContain("missed");

      expect((await watch.signal("SIGINT")).code).toBe(0);
      expect((await after.request<{ status: string }>("system:health")).status).toBe("ok");
    } finally {
      await watch.signal("SIGKILL");
    }
  });

  it("--retry to the same daemon: events sent while the connection was down are replayed once, with no fresh_instance notice", async () => {
    const d = await startDaemon();
    const relayPath = join(d.home, "relay.sock");
    const relay = new Relay(relayPath, d.socketPath);
    await relay.listen();
    const watch = spawnPat(d.home, ["watch", "state:set", "--retry", "--json", "--socket", relayPath]);
    try {
      const client = await d.client();
      await untilWatching(watch, client);
      await set(client, "k", 1);
      await waitFor("k=1 printed", () => story(watch).includes("k=1"));
      await relay.cut();
      await watch.waitForStderr(/the daemon closed the connection; reconnecting/);
      // While pat cannot reach it, the daemon goes on routing.
      await set(client, "k", 2);
      await set(client, "k", 3);
      await relay.listen();
      await watch.waitForStderr(/reconnected to the same patternd \(pid \d+\); resuming after seq \d+/);
      await set(client, "k", 4);
      await waitFor("k=4 printed", () => story(watch).includes("k=4"));
      expect(story(watch).filter((entry) => !entry.startsWith("ready="))).toEqual(["k=1", "k=2", "k=3", "k=4"]);
      const seqs = lines(watch).map((line) => line.seq as number);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect((await watch.signal("SIGINT")).code).toBe(0);
    } finally {
      await watch.signal("SIGKILL");
      await relay.close();
    }
  });

  it("--retry to the same daemon after it let go of what was sent meanwhile: a missed notice where the gap is, never a silent skip", async () => {
    const d = await startDaemon();
    const relayPath = join(d.home, "relay.sock");
    const relay = new Relay(relayPath, d.socketPath);
    await relay.listen();
    const watch = spawnPat(d.home, ["watch", "state:set", "--retry", "--json", "--socket", relayPath]);
    try {
      const client = await d.client();
      await untilWatching(watch, client);
      await set(client, "k", 1);
      await waitFor("k=1 printed", () => story(watch).includes("k=1"));
      await relay.cut();
      await watch.waitForStderr(/reconnecting/);
      await set(client, "k", 2);
      // The daemon holds the last 10,000 routed events for replay: more than that pushes k=2 out.
      await Promise.all(Array.from({ length: 10_050 }, () => client.request("system:health")));
      await relay.listen();
      await watch.waitForStderr(/reconnected to the same patternd/);
      await set(client, "k", 3);
      await waitFor("k=3 printed", () => story(watch).includes("k=3"));
      expect(story(watch).filter((entry) => !entry.startsWith("ready="))).toEqual(["k=1", "missed", "k=3"]);
      const missed = lines(watch).find((line) => line.notice === "missed")!;
      const k1 = lines(watch).find((line) => (line.data as { key?: string } | undefined)?.key === "k")!;
      expect(missed).toEqual({ notice: "missed", after_seq: k1.seq });
      expect((await watch.signal("SIGINT")).code).toBe(0);
    } finally {
      await watch.signal("SIGKILL");
      await relay.close();
    }
  });

  it.skipIf(!hasScript)("--retry on a terminal: waits for a daemon not yet started, then prints the fresh-instance line between the two daemons' events", async () => {
    const home = await makeHome();
    // `exec`: script runs the command through $SHELL, and dash (CI's /bin/sh, when SHELL is unset) stays as pat's parent
    // without it; Ctrl-C would then reach that shell too, and its exit status, not pat's, would be what script reports.
    const command = `exec ${[process.execPath, PAT, "watch", "state:set", "--retry", "--home", home].map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(" ")}`;
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of Object.keys(env)) if (key.startsWith("PATTERND_")) delete env[key];
    const child = spawn("script", ["-qfec", command, "/dev/null"], { cwd: home, env, stdio: ["pipe", "pipe", "pipe"] });
    const watch = new DaemonProcess(home, child);
    try {
      await watch.waitForStdout(/waiting for patternd at .*patternd\.sock/);
      const first = await startDaemon({ home });
      const before = await first.client();
      await set(before, "a", 1);
      await watch.waitForStdout(/#\d+ {2}state:set {2}\{"key":"a","value":1\}/);
      await first.stop();
      const second = await startDaemon({ home });
      await set(await second.client(), "b", 1);
      const out = await watch.waitForStdout(/#\d+ {2}state:set {2}\{"key":"b","value":1\}/);
      const text = out.replaceAll("\r\n", "\n");
      const fresh = `-- fresh instance: patternd restarted (pid ${first.pid}, now ${second.pid}); its events are numbered from 1 again, all of them shown from its start`;
      expect(text).toContain(fresh);
      expect(text.indexOf('"key":"a"')).toBeLessThan(text.indexOf(fresh));
      expect(text.indexOf(fresh)).toBeLessThan(text.indexOf('"key":"b"'));
      // Ctrl-C on the terminal ends it cleanly.
      child.stdin.write("\x03");
      expect((await watch.waitExit()).code).toBe(0);
    } finally {
      await watch.signal("SIGKILL");
    }
  });
});

describe("pat watch -o text|json|yaml: the output forms of every other command, as a stream", () => {
  /** Watches state:set with `format`, sets ready=1..n until it shows, then a=1 and a=2; returns stdout once a=2 is in it. */
  async function watched(format: "text" | "json" | "yaml", shown: (stdout: string, key: string) => boolean): Promise<string> {
    const d = await startDaemon();
    const watch = spawnPat(d.home, ["watch", "state:set", "-o", format]);
    try {
      const client = await d.client();
      let round = 0;
      await waitFor("pat watch to print an event", async () => {
        await set(client, "ready", ++round);
        return shown(watch.stdout(), "ready");
      }, 15_000, 100);
      await set(client, "a", 1);
      await set(client, "a", 2);
      await waitFor("a=2 printed", () => shown(watch.stdout(), "a") && watch.stdout().split("\n").filter((line) => /\ba\b/.test(line)).length >= 2);
      expect((await watch.signal("SIGINT")).code).toBe(0);
      expect((await client.request<{ status: string }>("system:health")).status).toBe("ok");
      return watch.stdout();
    } finally {
      await watch.signal("SIGKILL");
    }
  }

  it("-o yaml: one YAML document per event, each starting with ---", async () => {
    const stdout = await watched("yaml", (out, key) => out.includes(`key: ${key}`));
    expect(stdout.startsWith("---\n")).toBe(true);
    const documents = parseAllDocuments(stdout).map((document) => document.toJS() as { event: string; data: { key: string; value: unknown }; seq: number });
    const events = documents.filter((document) => document.data.key === "a");
    expect(events.map((document) => [document.event, document.data.value])).toEqual([["state:set", 1], ["state:set", 2]]);
    expect(events[1]!.seq).toBeGreaterThan(events[0]!.seq);
    expect(documents.every((document) => typeof document.seq === "number" && document.event === "state:set")).toBe(true);
  });

  it("-o json: one JSON object per line; text (the default, piped or not): one readable line per event", async () => {
    const json = await watched("json", (out, key) => out.includes(`"key":"${key}"`));
    const objects = json.trim().split("\n").map((line) => JSON.parse(line) as { event: string; data: { key: string; value: unknown } });
    expect(objects.filter((object) => object.data.key === "a").map((object) => object.data.value)).toEqual([1, 2]);
    const text = await watched("text", (out, key) => out.includes(`"key":"${key}"`));
    expect(text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}#\d+ {2}state:set {2}\{"key":"a","value":2/m);
    expect(() => JSON.parse(text.split("\n")[0]!) as unknown).toThrow();
  });
});

/** A Unix-socket relay between pat and the daemon: `cut` drops every connection through it and stops listening until `listen` again. */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly path: string,
    private readonly target: string,
  ) {}

  async listen(): Promise<void> {
    await rm(this.path, { force: true });
    this.server = createServer((inbound) => {
      const outbound = createConnection(this.target);
      for (const socket of [inbound, outbound]) {
        this.sockets.add(socket);
        socket.on("error", () => undefined);
        socket.on("close", () => {
          this.sockets.delete(socket);
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.path, resolve));
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  close(): Promise<void> {
    return this.cut();
  }
}
