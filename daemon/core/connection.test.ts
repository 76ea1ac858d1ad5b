import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { DEFAULT_LIMITS, type Limits } from "../config.js";
import { Bus, type RoutedEvent } from "./bus.js";
import { manualClock } from "./clock.js";
import { Connection } from "./connection.js";
import { defineEvent } from "./event.js";
import { silentLog } from "./log.js";
import { Registry } from "./registry.js";
import { Router } from "./router.js";

const DEADLINE_MS = 5_000;

/** Polls `condition` until it holds; fails after a deadline instead of hanging. */
async function waitUntil(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

interface Reader {
  lines: Record<string, unknown>[];
  closed: boolean;
}

/** Collects the JSON lines a client socket receives. */
function read(socket: Socket): Reader {
  const reader: Reader = { lines: [], closed: false };
  let buffer = "";
  socket.setEncoding("utf8");
  socket.on("data", (text: string) => {
    buffer += text;
    for (let nl = buffer.indexOf("\n"); nl !== -1; nl = buffer.indexOf("\n")) {
      reader.lines.push(JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>);
      buffer = buffer.slice(nl + 1);
    }
  });
  socket.on("error", () => undefined);
  socket.on("close", () => (reader.closed = true));
  return reader;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function harness(overrides: Partial<Limits> = {}) {
  const limits: Limits = { ...DEFAULT_LIMITS, ...overrides };
  const log = silentLog();
  const bus = new Bus((err) => {
    throw err;
  });
  const registry = new Registry();
  const published: RoutedEvent[] = [];
  bus.subscribe((event) => published.push(event));
  /** Requests of test:wait in flight, by key; resolving one answers it. */
  const waiting = new Map<string, (value: unknown) => void>();
  registry.add(
    defineEvent({
      name: "test:wait",
      summary: "answers when the test resolves its key",
      params: z.strictObject({ key: z.string() }),
      handler: (data) => new Promise((resolve) => waiting.set(data.key, resolve)),
    }),
  );
  registry.add(
    defineEvent({
      name: "test:now",
      summary: "answers at once",
      params: z.strictObject({ n: z.number() }),
      handler: (data) => ({ n: data.n }),
    }),
  );
  const router = new Router(registry, bus, manualClock(0), log);
  const state = { stopping: false };

  const dir = await mkdtemp(join(tmpdir(), "pd-conn-"));
  const socketPath = join(dir, "s.sock");
  const accepted: { connection: Connection; socket: Socket }[] = [];
  const server: Server = createServer((socket) => {
    accepted.push({ socket, connection: new Connection(accepted.length + 1, socket, router, limits, log, () => state.stopping) });
  });
  server.listen(socketPath);
  await once(server, "listening");
  const client = createConnection(socketPath);
  const reader = read(client);
  cleanups.push(async () => {
    client.destroy();
    for (const { socket } of accepted) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });
  await once(client, "connect");
  await waitUntil(() => accepted.length === 1, "the server to accept");
  const { connection, socket: serverSocket } = accepted[0]!;

  const send = (...messages: (Record<string, unknown> | string)[]) =>
    client.write(messages.map((m) => (typeof m === "string" ? m : JSON.stringify(m)) + "\n").join(""));

  return { limits, log, published, waiting, state, client, reader, connection, serverSocket, send };
}

describe("Connection over a Unix socket", () => {
  it("answers pipelined requests in request order when an earlier handler is slower", async () => {
    const h = await harness();
    h.send(
      { event: "test:wait", data: { key: "a" }, id: 1 },
      { event: "test:wait", data: { key: "b" }, id: 2 },
      { event: "test:now", data: { n: 3 }, id: 3 },
      "not json",
      { event: "test:now", data: { n: 5 }, correlation_id: "c5" },
    );
    // Every later request is handled (published) before the slow ones finish.
    await waitUntil(() => h.waiting.size === 2 && h.published.length === 2, "requests 3 and 5 to be handled");
    h.waiting.get("b")!({ key: "b" });
    await waitUntil(() => h.published.length === 3, "request 2 to finish");
    h.waiting.get("a")!({ key: "a" });
    await waitUntil(() => h.reader.lines.length === 5, "five replies");
    expect(h.reader.lines).toEqual([
      { event: "test:wait", id: 1, ok: true, data: { key: "a" } },
      { event: "test:wait", id: 2, ok: true, data: { key: "b" } },
      { event: "test:now", id: 3, ok: true, data: { n: 3 } },
      { event: null, id: null, ok: false, error: expect.objectContaining({ code: "invalid_json" }) },
      { event: "test:now", correlation_id: "c5", ok: true, data: { n: 5 } },
    ]);
    expect(h.reader.closed).toBe(false);
  });

  it("ignores blank lines and keeps the connection open after bad input", async () => {
    const h = await harness();
    h.send("", "   ", "{oops", { event: "test:nope", id: "u" }, { event: "test:now", data: { n: 1 }, id: "k" });
    await waitUntil(() => h.reader.lines.length === 3, "three replies");
    expect(h.reader.lines.map((line) => [line.id, (line.error as { code?: string } | undefined)?.code ?? "ok"])).toEqual([
      [null, "invalid_json"],
      ["u", "unknown_event"],
      ["k", "ok"],
    ]);
    expect(h.reader.closed).toBe(false);
  });

  it("answers a too-large line with too_large after the replies before it, then closes", async () => {
    const h = await harness({ maxLineBytes: 1024 });
    const warned = vi.spyOn(h.log, "warn");
    h.send({ event: "test:now", data: { n: 1 }, id: 1 }, { event: "test:wait", data: { key: "slow" }, id: 2 });
    h.client.write("x".repeat(4096)); // over the limit, and never finished by a newline
    await waitUntil(() => warned.mock.calls.length === 1, "the oversized line to be seen");
    expect(h.reader.closed).toBe(false); // still owes the reply to request 2
    h.waiting.get("slow")!("done");
    await waitUntil(() => h.reader.closed, "the connection to close");
    expect(h.reader.lines).toEqual([
      { event: "test:now", id: 1, ok: true, data: { n: 1 } },
      { event: "test:wait", id: 2, ok: true, data: "done" },
      { event: null, id: null, ok: false, error: { code: "too_large", message: expect.any(String), details: { limit: 1024 } } },
    ]);
  });

  it("closes at once after too_large when nothing else is in flight", async () => {
    const h = await harness({ maxLineBytes: 64 });
    h.send({ event: "test:now", data: { n: 1 }, id: 1 }, { event: "test:now", data: { n: 2 }, id: 2, pad: "y".repeat(100) });
    await waitUntil(() => h.reader.closed, "the connection to close");
    expect(h.reader.lines.map((line) => (line.error as { code?: string } | undefined)?.code ?? line.id)).toEqual([1, "too_large"]);
    expect(h.published).toHaveLength(1); // the oversized request never reached the router
  });

  it("refuses a push past the queue limit while the peer does not read, but not a forced one", async () => {
    const limit = 4096;
    const h = await harness({ maxQueuedBytes: limit });
    h.client.pause();
    const payload = "p".repeat(16 * 1024);
    let pushed = 0;
    const deadline = Date.now() + DEADLINE_MS;
    for (;;) {
      const accepted = h.connection.push({ event: "x:y", data: { payload }, subscription: "s1", seq: pushed + 1, ts: "t" });
      if (!accepted) break;
      pushed++;
      if (Date.now() > deadline) throw new Error("push never refused");
      await nextTurn(); // let the connection hand its batch to the socket
    }
    expect(pushed * payload.length).toBeGreaterThan(limit);
    expect(h.serverSocket.writableLength).toBeGreaterThan(limit);
    expect(h.connection.push({ event: "monitor:dropped", data: {}, subscription: "s1", seq: pushed + 1, ts: "t" }, true)).toBe(true);

    h.client.resume();
    await waitUntil(() => h.reader.lines.length === pushed + 1, "every accepted push");
    expect(h.reader.lines.map((line) => line.seq)).toEqual(Array.from({ length: pushed + 1 }, (_, i) => i + 1));
    expect(h.reader.lines.at(-1)!.event).toBe("monitor:dropped");
    // Once the peer has read everything, pushes are accepted again.
    await waitUntil(() => h.serverSocket.writableLength === 0, "the queue to drain");
    expect(h.connection.push({ event: "x:y", data: {}, subscription: "s1", seq: 0, ts: "t" })).toBe(true);
  });

  it("hands a burst of pushes to the socket while it is produced, not only at the end of the turn", async () => {
    const h = await harness();
    const payload = "b".repeat(30 * 1024);
    for (let seq = 1; seq <= 8; seq++) {
      expect(h.connection.push({ event: "x:y", data: { payload }, subscription: "s1", seq, ts: "t" })).toBe(true);
    }
    // Still the same turn: the socket already has most of the burst.
    expect(h.serverSocket.bytesWritten).toBeGreaterThan(6 * payload.length);
    await waitUntil(() => h.reader.lines.length === 8, "every push");
    expect(h.reader.lines.map((line) => line.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("counts queued output through writes and drains: a reader gets many times the limit without a refusal", async () => {
    const limit = 16 * 1024;
    const h = await harness({ maxQueuedBytes: limit });
    const payload = "r".repeat(2 * 1024);
    let seq = 0;
    for (let turn = 0; turn < 100; turn++) {
      for (let i = 0; i < 3; i++) {
        seq++;
        expect(h.connection.push({ event: "x:y", data: { payload }, subscription: "s1", seq, ts: "t" })).toBe(true);
      }
      await waitUntil(() => h.reader.lines.length === seq, `the pushes of turn ${turn}`);
    }
    expect(seq * payload.length).toBeGreaterThan(30 * limit);
    expect(h.reader.lines.map((line) => line.seq)).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
  });

  it("answers shutting_down, without running the handler, while the daemon stops", async () => {
    const h = await harness();
    h.state.stopping = true;
    h.send({ event: "test:now", data: { n: 1 }, id: "s1" }, { event: "test:now", data: { n: 2 }, correlation_id: 9 }, "[");
    await waitUntil(() => h.reader.lines.length === 3, "three replies");
    expect(h.reader.lines).toEqual([
      { event: "test:now", id: "s1", ok: false, error: { code: "shutting_down", message: expect.any(String) } },
      { event: "test:now", correlation_id: 9, ok: false, error: { code: "shutting_down", message: expect.any(String) } },
      { event: null, id: null, ok: false, error: expect.objectContaining({ code: "invalid_json" }) },
    ]);
    expect(h.published).toHaveLength(0);
  });

  it("settles idle() once the requests in flight are answered", async () => {
    const h = await harness();
    h.send({ event: "test:wait", data: { key: "k" }, id: 1 });
    await waitUntil(() => h.waiting.size === 1, "the request to start");
    let idle = false;
    void h.connection.idle().then(() => (idle = true));
    await nextTurn();
    expect(idle).toBe(false);
    h.waiting.get("k")!(1);
    await waitUntil(() => idle, "idle");
  });

  it("runs close callbacks when the client goes away and refuses pushes after", async () => {
    const h = await harness();
    let closed = 0;
    h.connection.onClose(() => closed++);
    h.client.end();
    await waitUntil(() => h.connection.isClosed, "the server side to close");
    expect(closed).toBe(1);
    expect(h.connection.push({ event: "x:y", data: {}, subscription: "s1", seq: 1, ts: "t" }, true)).toBe(false);
    h.connection.onClose(() => closed++); // registered late: runs at once
    expect(closed).toBe(2);
  });
});
