import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Client } from "./client.js";

let server: Server | undefined;
let dir: string | undefined;

afterEach(() => {
  server?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** A socket peer that answers monitor:subscribe with the reply and the replayed pushes in one write, as a busy daemon may. */
async function peerReplayingWithTheReply(count: number): Promise<string> {
  dir = mkdtempSync(join(tmpdir(), "pc-"));
  const socketPath = join(dir, "s.sock");
  server = createServer((socket) => {
    socket.on("error", () => undefined); // the client may close while the peer still writes
    socket.once("data", (chunk) => {
      // Only the subscribe is answered; the unsubscribe sent when the test stops iterating is not.
      const request = JSON.parse(chunk.toString("utf8").split("\n")[0]!) as { id: number };
      const reply = { event: "monitor:subscribe", id: request.id, ok: true, data: { subscription: "s1", seq: 10 } };
      const pushes = Array.from({ length: count }, (_, i) => ({ event: "run:step", data: { n: i + 1 }, subscription: "s1", seq: 11 + i, ts: "2026-12-04T00:00:00.000Z" }));
      socket.write([reply, ...pushes].map((message) => JSON.stringify(message) + "\n").join(""));
    });
  });
  await new Promise<void>((resolve) => server!.listen(socketPath, resolve));
  return socketPath;
}

describe("Client.subscribe", () => {
  it("yields pushes that came in the same read as the reply in the order they came", async () => {
    const client = await Client.connect({ socketPath: await peerReplayingWithTheReply(5) });
    const subscription = await client.subscribe(["run:*"], { sinceSeq: 10 });
    const seen: number[] = [];
    for await (const push of subscription) {
      seen.push((push.data as { n: number }).n);
      if (seen.length === 5) break;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    await client.close();
  });
});
