/**
 * The daemon in the foreground, in the process that asked for it (the
 * daemon's own entry, `pat run`, `npm start`): no child process, so a
 * kill -9 of what a person started never leaves an orphan holding the
 * socket. Prints where it listens and logs, then one line per change.
 * Returns the exit code; the caller exits.
 */
import { performance } from "node:perf_hooks";
import type { Config } from "./config.js";
import { AlreadyRunningError } from "./core/instance-lock.js";
import { start, type Change, type Daemon } from "./start.js";

/** Signals closer together than this count as one (Ctrl-C reaches both npm and the daemon). */
const REPEAT_SIGNAL_MS = 1_000;

export async function runInForeground(config: Config): Promise<number> {
  // Handlers first: a signal that arrives while the daemon starts (its socket may already answer) must
  // still end in a clean stop, not in the default action that leaves the socket and pid files behind.
  let daemon: Daemon | undefined;
  let pendingSignal: NodeJS.Signals | undefined;
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstSignalAt === 0) {
      firstSignalAt = performance.now();
      if (daemon === undefined) pendingSignal = signal;
      else void daemon.stop(signal);
    } else if (performance.now() - firstSignalAt > REPEAT_SIGNAL_MS) {
      // A deliberate second signal: the user does not want to wait for the clean stop.
      process.stderr.write(`patternd: ${signal} again; exiting without waiting\n`);
      process.exit(1);
    }
    // Within the window it is the same Ctrl-C arriving twice (terminal and a wrapper like npm): ignore.
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  try {
    daemon = await start(config);
  } catch (err) {
    const message = err instanceof AlreadyRunningError ? `${err.message}; stop it with: pat stop` : (err as Error).message;
    process.stderr.write(`patternd: cannot start: ${message}\n`);
    return 1;
  }
  const running = daemon;
  process.on("uncaughtException", (err) => {
    process.stderr.write(`patternd: uncaught exception, stopping: ${err.stack ?? String(err)}\n`);
    void running.stop("uncaught exception").finally(() => process.exit(1));
  });
  if (pendingSignal !== undefined) {
    await running.stop(pendingSignal);
    return 0;
  }

  // The suggested commands must reach this daemon from where they are typed.
  const where = config.home === process.cwd() ? "" : ` --home ${config.home}`;
  const target = config.socketInHome ? where : `${where} --socket ${config.socketPath}`;
  process.stdout.write(
    `patternd ${running.version} listening on ${running.socketPath}\n` +
      `home: ${config.home}\n` +
      `log: ${running.logPath} (every routed event: ${config.logDir}/events/)\n` +
      `In another shell${target === "" ? ", from this directory" : ""}:\n` +
      `  npx pat send system:health${target}     # is it up?\n` +
      `  npx pat discover${target}               # what it answers\n` +
      `  npx pat watch '**'${target}             # see every event as it is routed\n` +
      `  npx pat stop${target}                   # stop it (or press Ctrl-C here)\n` +
      `Changes as they happen:\n`,
  );
  running.onChange((change) => process.stdout.write(changeLine(change) + "\n"));
  await running.stopped;
  return 0;
}

/** `12:01:02 composition:fork tournament_swiss by orch_7f3e`: what changed, what it was about, who asked. */
export function changeLine(change: Change): string {
  const time = new Date(change.ts).toISOString().slice(11, 19);
  const data = (typeof change.data === "object" && change.data !== null ? change.data : {}) as Record<string, unknown>;
  let about = "";
  for (const field of ["name", "pattern", "source", "key", "event", "schedule_id", "events"]) {
    const value = data[field];
    if (typeof value === "string") about = ` ${value}`;
    else if (Array.isArray(value) && value.length > 0) about = ` ${value.map((item) => JSON.stringify(item)).join(",")}`;
    if (about !== "") break;
  }
  return `${time} ${change.event}${about.length > 81 ? `${about.slice(0, 80)}…` : about}${change.agentId === undefined ? "" : ` by ${change.agentId}`}`;
}
