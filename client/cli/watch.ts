/**
 * `pat watch [PATTERN ...] [--retry]`: routed events as they happen. With
 * --retry it outlives the daemon: it reconnects when the daemon comes back
 * and resumes after the last seq it saw (monitor:subscribe since_seq
 * replays what the daemon still holds). A restarted daemon numbers its
 * events from 1 again: that is a fresh instance, said in the output (as
 * Watchman does), and watching starts over from its first event. Whatever
 * could not be replayed is said too, never silently skipped.
 */
import { DaemonUnreachableError, type Client } from "../client.js";
import { unknownOption, UsageError, type Argv } from "./args.js";
import { EXIT, type Cli } from "./context.js";
import { serialize } from "./output.js";
import { renderPush } from "./render.js";

/** Which daemon answers: a restart changes its pid, or at least its start time. */
export interface Instance {
  pid: number;
  /** Milliseconds since the epoch, from system:health's uptime_s (0.1 s steps). */
  startedAt: number;
}

/** Where a watch stands: the daemon it watched and the last seq it has accounted for. */
export interface Position {
  instance: Instance;
  seq: number;
}

/** Two sightings of one daemon differ in start time by the rounding of uptime_s and the request's latency; a restart by the old one's lifetime. */
const SAME_START_TOLERANCE_MS = 2_000;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 1_000;

/**
 * Where to (re)subscribe from (pure): the first time, live events only, or
 * from the daemon's start when the watch was there first (it waited for the
 * daemon); then after `previous.seq` on the same daemon, from its start on a
 * fresh one.
 */
export function resumePlan(previous: Position | undefined, instance: Instance, waitedForDaemon: boolean): { sinceSeq?: number; fresh: boolean } {
  if (previous === undefined) return waitedForDaemon ? { sinceSeq: 0, fresh: false } : { fresh: false };
  const same = previous.instance.pid === instance.pid && Math.abs(previous.instance.startedAt - instance.startedAt) <= SAME_START_TOLERANCE_MS;
  return same ? { sinceSeq: previous.seq, fresh: false } : { sinceSeq: 0, fresh: true };
}

export async function watch(cli: Cli): Promise<number> {
  const { patterns, retry } = watchOptions(cli.argv);
  const stopper = new Stopper();
  try {
    if (cli.format === "text") cli.err(`watching ${patterns.join(" ")} (Ctrl-C to stop)`);
    let position: Position | undefined;
    let waiting = false;
    let backoff = RECONNECT_MIN_MS;
    const advance = (next: Position) => {
      position = next;
      backoff = RECONNECT_MIN_MS;
    };
    while (!stopper.stopped) {
      let client: Client;
      try {
        client = await cli.connect();
      } catch (err) {
        if (!retry || !(err instanceof DaemonUnreachableError)) throw err;
        if (!waiting) cli.err(`pat: waiting for patternd at ${err.socketPath} (--retry; Ctrl-C to stop)`);
        waiting = true;
        await stopper.sleep(backoff);
        backoff = Math.min(backoff * 2, RECONNECT_MAX_MS);
        continue;
      }
      try {
        const outcome = await watchOnce(cli, client, patterns, { previous: retry ? position : undefined, waited: waiting, retry }, stopper, advance);
        if (outcome !== "disconnected") return outcome;
      } catch (err) {
        // The daemon went away between connecting and subscribing: as if it closed the connection.
        if (!(retry && err instanceof DaemonUnreachableError)) throw err;
      } finally {
        await client.close();
      }
      if (stopper.stopped) break;
      if (!retry) {
        cli.err("the daemon closed the connection");
        return EXIT.unreachable;
      }
      cli.err("pat: the daemon closed the connection; reconnecting (--retry)");
      waiting = true;
      // A daemon that accepts and at once closes must not make this a busy loop.
      await stopper.sleep(backoff);
      backoff = Math.min(backoff * 2, RECONNECT_MAX_MS);
    }
    return EXIT.ok;
  } finally {
    stopper.dispose();
  }
}

/** One connection's watch: "disconnected" when the daemon went away, else the exit code. */
async function watchOnce(
  cli: Cli,
  client: Client,
  patterns: string[],
  { previous, waited, retry }: { previous: Position | undefined; waited: boolean; retry: boolean },
  stopper: Stopper,
  advance: (position: Position) => void,
): Promise<number | "disconnected"> {
  // Only --retry needs to know which daemon this is (to compare it with the next one).
  const instance = retry ? await identify(client) : { pid: 0, startedAt: 0 };
  const plan = resumePlan(previous, instance, waited);
  let subscription = await client.subscribe(patterns, plan.sinceSeq === undefined ? {} : { sinceSeq: plan.sinceSeq });
  let fresh = plan.fresh;
  if (previous !== undefined && !fresh && subscription.seq < previous.seq) {
    // Same pid and start time, yet its seq went back: a restart all the same (a container's pid 1 restarting within seconds).
    subscription.close();
    subscription = await client.subscribe(patterns, { sinceSeq: 0 });
    fresh = true;
  }
  if (previous !== undefined) {
    if (fresh) notice(cli, { notice: "fresh_instance", pid: instance.pid, previous_pid: previous.instance.pid, previous_seq: previous.seq });
    else cli.err(`pat: reconnected to the same patternd (pid ${instance.pid}); resuming after seq ${previous.seq}`);
  }
  const since = fresh ? 0 : plan.sinceSeq;
  if (subscription.missed && since !== undefined) notice(cli, { notice: "missed", after_seq: since });
  // Accounted for: everything up to the subscription's seq when nothing is replayed; else what the replay (which follows the reply) has printed.
  let seq = since ?? subscription.seq;
  advance({ instance, seq });
  const forget = stopper.onStop(() => subscription.close());
  let dropped = false;
  try {
    for await (const push of subscription) {
      cli.out(streamed(cli, push, () => renderPush(push)));
      if (push.event === "monitor:dropped") dropped = true;
      else if (push.seq > seq) {
        seq = push.seq;
        advance({ instance, seq });
      }
    }
  } finally {
    forget();
  }
  if (dropped) {
    cli.err("the daemon dropped this watch: output was not read fast enough");
    return EXIT.remote;
  }
  return stopper.stopped ? EXIT.ok : "disconnected";
}

async function identify(client: Client): Promise<Instance> {
  const health = await client.request<{ pid: number; uptime_s: number }>("system:health");
  return { pid: health.pid, startedAt: Date.now() - health.uptime_s * 1000 };
}

type Notice = { notice: "fresh_instance"; pid: number; previous_pid: number; previous_seq: number } | { notice: "missed"; after_seq: number };

/** A notice goes in the output stream, where it stands between the events it separates. */
function notice(cli: Cli, what: Notice): void {
  cli.out(
    streamed(cli, what, () =>
      what.notice === "fresh_instance"
        ? `-- fresh instance: patternd restarted (pid ${what.previous_pid}, now ${what.pid}); its events are numbered from 1 again, all of them shown from its start`
        : `-- missed: events after seq ${what.after_seq} are no longer held by the daemon and are not shown (the event log keeps them: pat send monitor:get_events)`,
    ),
  );
}

/**
 * One event or notice as -o says: a text line; a JSON object on one line
 * (a stream is read line by line, as jq and JSON-lines readers do); a YAML
 * document that starts with --- (as kubectl get -w -o yaml prints them).
 */
function streamed(cli: Cli, value: unknown, text: () => string): string {
  if (cli.format === "json") return JSON.stringify(value);
  if (cli.format === "yaml") return `---\n${serialize(value, "yaml")}`;
  return text();
}

function watchOptions(argv: Argv): { patterns: string[]; retry: boolean } {
  let retry = false;
  for (const { key, value } of argv.pairs) {
    if (key !== "retry") throw unknownOption(key, ["retry"]);
    if (value !== true && value !== "true" && value !== "false") throw new UsageError(`--retry takes no value (got ${value})`);
    retry = value !== "false";
  }
  return { patterns: argv.positionals.length > 0 ? argv.positionals : ["**"], retry };
}

/** Ctrl-C / SIGTERM: ends the current subscription and any wait between reconnects. */
class Stopper {
  stopped = false;
  private readonly onStopped = new Set<() => void>();
  private readonly stop = () => {
    this.stopped = true;
    for (const fn of this.onStopped) fn();
    this.onStopped.clear();
  };

  constructor() {
    process.once("SIGINT", this.stop);
    process.once("SIGTERM", this.stop);
  }

  /** Runs `fn` on stop (at once when already stopped); returns what forgets it. */
  onStop(fn: () => void): () => void {
    if (this.stopped) fn();
    else this.onStopped.add(fn);
    return () => this.onStopped.delete(fn);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        forget();
        resolve();
      }, ms);
      const forget = this.onStop(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  dispose(): void {
    process.off("SIGINT", this.stop);
    process.off("SIGTERM", this.stop);
  }
}
