/**
 * `--sync-every SECONDS` (issue 19): the store synced with each of its git
 * remotes that often, in the background. A sync takes the store's lock only
 * for its merge (the network is outside it), so local work is never held
 * up by a slow or absent remote; a round never overlaps the one before (the
 * next is armed when it ends); a failure (unreachable, auth, conflicts) is
 * logged and kept for system:health, and the next round tries again.
 */
import type { Clock, TimerHandle } from "../../core/clock.js";
import type { Log } from "../../core/log.js";
import type { StoreSync } from "./store/store-sync.js";

/** What system:health says of one remote's background sync. */
export interface RemoteSyncState {
  remote: string;
  /** ISO time of the last sync that ended well; null until one has. */
  last_ok: string | null;
  /** The last failure's message, cleared by a sync that ends well. */
  last_error: string | null;
  /** When the next round starts. */
  next_at: string;
}

/** The agent background syncs are made as (the merge commit's author). */
const SYNC_AGENT = "patternd-sync";

export class SyncEvery {
  private timer: TimerHandle | null = null;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private nextAt = 0;
  private readonly states = new Map<string, { last_ok: string | null; last_error: string | null }>();

  constructor(
    private readonly sync: StoreSync,
    private readonly seconds: number,
    private readonly clock: Clock,
    private readonly log: Log,
    /** Told of a sync that took something in (composition:changed). */
    private readonly applied: (reply: Awaited<ReturnType<StoreSync["sync"]>>) => void,
  ) {}

  start(): void {
    this.arm();
  }

  /** Stops arming rounds and waits for one under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    await this.running;
  }

  health(): RemoteSyncState[] {
    const next = new Date(this.nextAt).toISOString();
    return [...this.states].map(([remote, state]) => ({ remote, ...state, next_at: next }));
  }

  private arm(): void {
    if (this.stopped) return;
    this.nextAt = this.clock.now() + this.seconds * 1000;
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      this.running = this.round().finally(() => this.arm());
    }, this.seconds * 1000);
  }

  private async round(): Promise<void> {
    let remotes: string[];
    try {
      remotes = [...(await this.sync.remotes()).keys()];
    } catch (err) {
      this.log.warn({ err }, "background sync: the store's remotes could not be read");
      return;
    }
    for (const name of [...this.states.keys()]) if (!remotes.includes(name)) this.states.delete(name);
    for (const remote of remotes) {
      if (this.stopped) return;
      const state = this.states.get(remote) ?? { last_ok: null, last_error: null };
      this.states.set(remote, state);
      try {
        const reply = await this.sync.sync({ remote }, SYNC_AGENT);
        if (reply.conflicts.length > 0) {
          const files = [...new Set(reply.conflicts.map((c) => c.file))];
          state.last_error = `${reply.conflicts.length} conflict(s) in ${files.join(", ")}: nothing was taken in or pushed; settle them with pat sync ${remote} (resolve)`;
          this.log.warn({ remote, conflicts: reply.conflicts.length, files }, "background sync: conflicts; the store is left as it was");
          continue;
        }
        state.last_ok = new Date(this.clock.now()).toISOString();
        state.last_error = null;
        if (reply.applied) this.applied(reply);
      } catch (err) {
        state.last_error = (err as Error).message;
        this.log.warn({ err, remote }, "background sync failed; local work goes on, and the next round tries again");
      }
    }
  }
}
