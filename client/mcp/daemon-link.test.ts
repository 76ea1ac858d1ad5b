/**
 * The link when a connection dies before the reply: a stand-in daemon on a
 * real Unix socket that answers by a script and drops the connection when
 * told to (the real daemon's death mid-request cannot be timed in a test).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DaemonUnreachableError } from "../client.js";
import { DaemonLink } from "./daemon-link.js";

interface Stand {
  socketPath: string;
  /** Requests received, by event, in order. */
  received: string[];
  close(): Promise<void>;
}

const EVENTS = {
  state: [
    { event: "state:get", summary: "read a key", effect: "read", params: {} },
    { event: "state:set", summary: "write a key", effect: "write", params: {} },
  ],
};

let dir: string | undefined;
let stand: Stand | undefined;

afterEach(async () => {
  await stand?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** A daemon that answers every request, except that the first `drop` request of each event kills its connection. */
async function standIn(drop: string[]): Promise<Stand> {
  dir = await mkdtemp(join(tmpdir(), "patternd-link-"));
  const socketPath = join(dir, "d.sock");
  const received: string[] = [];
  const dropped = new Set<string>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    let buffered = "";
    socket.on("data", (chunk) => {
      buffered += chunk.toString("utf8");
      for (let end = buffered.indexOf("\n"); end !== -1; end = buffered.indexOf("\n")) {
        const request = JSON.parse(buffered.slice(0, end)) as { id: number; event: string };
        buffered = buffered.slice(end + 1);
        received.push(request.event);
        if (drop.includes(request.event) && !dropped.has(request.event)) {
          dropped.add(request.event);
          socket.destroy();
          return;
        }
        const data = request.event === "system:health" ? { pid: 4242 } : request.event === "system:discover" ? { events: EVENTS } : { key: "k", value: 1 };
        socket.write(`${JSON.stringify({ event: request.event, id: request.id, ok: true, data })}\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    received,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("DaemonLink, a connection lost before the reply", () => {
  it("asks a read again on a new connection, and the caller gets its answer", async () => {
    stand = await standIn(["state:get"]);
    const link = new DaemonLink({ socketPath: stand.socketPath, agentId: undefined, start: undefined });
    await link.eventTable();
    expect(await link.request("state:get", { key: "k" })).toEqual({ key: "k", value: 1 });
    expect(stand.received.filter((event) => event === "state:get")).toHaveLength(2);
    await link.close();
  });

  it("does not send a write again: it may have been done; the error says so", async () => {
    stand = await standIn(["state:set"]);
    const link = new DaemonLink({ socketPath: stand.socketPath, agentId: undefined, start: undefined });
    await link.eventTable();
    const failed = await link.request("state:set", { key: "k", value: 2 }).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(DaemonUnreachableError);
    expect((failed as Error).message).toMatch(/closed before it answered state:set .*it may or may not have been done; read what it would change before sending it again/);
    expect(stand.received.filter((event) => event === "state:set")).toHaveLength(1);
    await link.close();
  });

  it("treats an event of unknown effect as a write", async () => {
    stand = await standIn(["review:request"]);
    const link = new DaemonLink({ socketPath: stand.socketPath, agentId: undefined, start: undefined });
    await expect(link.request("review:request", {})).rejects.toThrow(/may or may not have been done/);
    expect(stand.received.filter((event) => event === "review:request")).toHaveLength(1);
    await link.close();
  });
});
