/**
 * Composition root: builds the daemon from its parts in order (lock, log,
 * clock, registry, modules, router, socket) and returns how to stop it.
 */
import { mkdir } from "node:fs/promises";
import type { Server as NetServer, Socket } from "node:net";
import type { Config } from "./config.js";
import { Bus } from "./core/bus.js";
import { systemClock, type Clock } from "./core/clock.js";
import { Connection } from "./core/connection.js";
import { acquireInstanceLock, isDaemonProcess, type InstanceLock } from "./core/instance-lock.js";
import { createLog, type DaemonLog } from "./core/log.js";
import type { Module, ModuleContext } from "./core/module.js";
import { Registry } from "./core/registry.js";
import { Router } from "./core/router.js";
import { checkSocketPath, listen, preparePrivateDirectory, socketAnswers, stopAccepting } from "./core/server.js";
import { createModules } from "./modules/index.js";
import { packageInfo } from "./package-info.js";

/** A change the daemon made for a client: a request for an event whose effect is not read, answered ok. */
export interface Change {
  readonly ts: number;
  readonly event: string;
  readonly agentId: string | undefined;
  readonly effect: "write" | "destroy";
  readonly data: unknown;
}

export interface Daemon {
  readonly socketPath: string;
  readonly version: string;
  readonly logPath: string;
  /** Calls `listener` after each change; returns how to stop. */
  onChange(listener: (change: Change) => void): () => void;
  /** Stops cleanly; safe to call more than once. */
  stop(reason: string): Promise<void>;
  /** Settles once the daemon has stopped, whoever asked. */
  readonly stopped: Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
}

export async function start(config: Config, options: StartOptions = {}): Promise<Daemon> {
  checkSocketPath(config.socketPath);
  await preparePrivateDirectory(config.runDir, true);
  const lock = await acquireInstanceLock(config.pidFile, config.socketPath, async (pid) => {
    if (await socketAnswers(config.socketPath)) return true;
    return pid !== null && pid !== process.pid && (await isDaemonProcess(pid));
  });
  try {
    return await startLocked(config, options, lock);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function startLocked(config: Config, options: StartOptions, lock: InstanceLock): Promise<Daemon> {
  await Promise.all([config.eventLogDir, config.libDir].map((dir) => mkdir(dir, { recursive: true })));
  const daemonLog = createLog(config.daemonLog, config.logLevel);
  const { log } = daemonLog;
  const clock = options.clock ?? systemClock();
  const { version } = packageInfo();
  const startedAt = clock.now();
  const bus = new Bus((err, event) => log.error({ err, event: event.event }, "bus listener failed"));
  const registry = new Registry();
  const router = new Router(registry, bus, clock, log, config.checkResults === true);
  const connections = new Set<Connection>();
  let stopping = false;
  let stopPromise: Promise<void> | null = null;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));

  const modules: Module[] = [];
  const ctx: ModuleContext = {
    config,
    clock,
    log,
    bus,
    registry,
    dispatch: (call) => router.dispatch(call),
    requestStop: (reason) => setImmediate(() => void stop(reason)),
    status: () => ({
      version,
      pid: process.pid,
      startedAt,
      connections: connections.size,
      events: bus.lastSeq,
      daemonLogDropped: daemonLog.dropped(),
      modules: moduleFigures(modules),
    }),
  };
  modules.push(...createModules(ctx));
  for (const module of modules) for (const def of module.events) registry.add(def);
  for (const module of modules) if (module.eventSource !== undefined) registry.addSource(module.eventSource);
  for (const module of modules) await module.start?.();

  bus.onSettle(() => {
    for (const connection of connections) connection.writeQueued();
  });
  let nextConnectionId = 1;
  const onConnection = (socket: Socket) => {
    const connection = new Connection(nextConnectionId++, socket, router, config.limits, log, () => stopping);
    connections.add(connection);
    connection.onClose(() => connections.delete(connection));
  };
  let server: NetServer;
  try {
    server = await listen({ socketPath: config.socketPath, ownsDirectory: config.socketInHome, onConnection });
  } catch (err) {
    await stopModules(modules, daemonLog);
    throw err;
  }
  log.info({ socket: config.socketPath, home: config.home, version, events: registry.names().length }, "daemon started");

  async function stop(reason: string): Promise<void> {
    stopPromise ??= (async () => {
      stopping = true;
      log.info({ reason }, "daemon stopping");
      const { closed } = await stopAccepting(server, config.socketPath);
      await within(Promise.all([...connections].map((c) => c.idle())), config.limits.drainTimeoutMs, clock);
      for (const connection of connections) connection.close();
      await within(closed, CLOSE_GRACE_MS, clock);
      for (const connection of connections) connection.destroy();
      await closed;
      await stopModules(modules, daemonLog);
      await lock.release();
      log.info("daemon stopped");
      daemonLog.flush();
      resolveStopped();
    })();
    return stopPromise;
  }

  const onChange = (listener: (change: Change) => void) =>
    bus.subscribe((routed) => {
      // Requests only: what the daemon publishes itself (composition:changed, an emit's target) is not a change of its own.
      const def = routed.ok ? registry.get(routed.event) : undefined;
      const effect = def?.effect ?? "write";
      if (def !== undefined && effect !== "read") listener({ ts: routed.ts, event: routed.event, agentId: routed.agentId, effect, data: routed.data });
    });

  return { socketPath: config.socketPath, version, logPath: config.daemonLog, onChange, stop, stopped };
}

/** How long closing connections may take to flush their last replies. */
const CLOSE_GRACE_MS = 1_000;

/** Waits for `work`, at most `timeoutMs`. */
async function within(work: Promise<unknown>, timeoutMs: number, clock: Clock): Promise<void> {
  let timer;
  const timeout = new Promise<void>((resolve) => (timer = clock.setTimer(resolve, timeoutMs)));
  await Promise.race([work, timeout]);
  if (timer !== undefined) clock.clearTimer(timer);
}

async function stopModules(modules: readonly Module[], daemonLog: DaemonLog): Promise<void> {
  for (const module of [...modules].reverse()) {
    try {
      await module.stop?.();
    } catch (err) {
      daemonLog.log.error({ err, module: module.name }, "module failed to stop cleanly");
    }
  }
}

/**
 * Every module's health figures in one object, in module order. Assigned
 * into one target: spreading the list into Object.assign cost ten times
 * as much, and system:health asks for this on every call.
 */
function moduleFigures(modules: readonly Module[]): Record<string, unknown> {
  const figures: Record<string, unknown> = {};
  for (const module of modules) {
    const part = module.health?.();
    if (part !== undefined) Object.assign(figures, part);
  }
  return figures;
}
