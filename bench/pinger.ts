/**
 * A `system:health` ping on its own connection every `everyMs` (the next
 * one only after the last is answered, so a stalled daemon shows as one
 * long ping, not as a queue of them): what a busy turn of the daemon does
 * to everyone else. The burst and decisions-log benches read it.
 */
import { performance } from "node:perf_hooks";
import type { LineConnection } from "./common.js";

export interface Ping {
  sentAt: number;
  answeredAt: number;
}

/** Each ping's send and answer time (performance.now()). */
export class Pinger {
  private readonly pings: Ping[] = [];
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly conn: LineConnection,
    private readonly everyMs: number,
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      for (let id = 0; this.running; id++) {
        const sentAt = performance.now();
        const reply = await this.conn.request(`{"event":"system:health","id":${id}}\n`);
        const answeredAt = performance.now();
        if (reply.ok !== true || reply.id !== id) throw new Error(`system:health: unexpected reply ${JSON.stringify(reply).slice(0, 300)}`);
        this.pings.push({ sentAt, answeredAt });
        await sleep(Math.max(0, sentAt + this.everyMs - answeredAt));
      }
    })();
  }

  async stop(): Promise<Ping[]> {
    await sleep(200); // a stall right at the end still counts
    this.running = false;
    await this.loop;
    await this.conn.close();
    return this.pings;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
