/**
 * A namespace's contract with the daemon: the events it registers, and
 * optional start/stop/health hooks. A module sees the daemon only through
 * the narrow ModuleContext.
 */
import type { Config } from "../config.js";
import type { Bus } from "./bus.js";
import type { Clock } from "./clock.js";
import type { EventDef } from "./event.js";
import type { Log } from "./log.js";
import type { EventSource, Registry } from "./registry.js";
import type { Dispatch, Outcome } from "./router.js";

export interface Module {
  readonly name: string;
  readonly events: readonly EventDef[];
  /** Events it routes beyond its own definitions (looked up after every built-in one). */
  readonly eventSource?: EventSource;
  /** Runs after every module is registered, before the socket accepts connections. */
  start?(): void | Promise<void>;
  /** Runs after the last connection is drained; flush and release here. */
  stop?(): void | Promise<void>;
  /** Fields this module adds to system:health. */
  health?(): Record<string, unknown>;
}

export interface DaemonStatus {
  version: string;
  pid: number;
  startedAt: number;
  connections: number;
  /** Events routed since start. */
  events: number;
  /** daemon.log lines the disk could not take (full, read-only), since start. */
  daemonLogDropped: number;
  /** Each module's health fields, merged. */
  modules: Record<string, unknown>;
}

export interface ModuleContext {
  readonly config: Config;
  readonly clock: Clock;
  readonly log: Log;
  readonly bus: Bus;
  /** Read-only use: discover and help. */
  readonly registry: Registry;
  dispatch(call: Dispatch): Outcome | Promise<Outcome>;
  /** Begins a clean stop of the whole daemon (after the current reply is written). */
  requestStop(reason: string): void;
  status(): DaemonStatus;
}

