/**
 * Who handles what (issue 14): the registrations of connected processes and,
 * per event name, its route — the exclusive owner, the group members, the
 * observers and the params schema callers are checked against. Routes are
 * computed once per name and kept until a registration changes.
 */
import { DaemonError } from "../../core/errors.js";
import { compileGlob, type NameMatcher } from "../../core/glob.js";
import type { Session } from "../../core/session.js";
import type { Call } from "./calls.js";
import { DAEMON_NAMESPACES } from "../daemon-namespaces.js";
import { canonicalJson, type JsonSchema } from "./model/json-schema.js";

export type Mode = "exclusive" | "group" | "observe";

export interface RegistrationInput {
  events: readonly string[];
  mode: Mode;
  group: string | undefined;
  concurrency: number;
  timeoutMs: number;
  maxQueue: number;
  params: JsonSchema | undefined;
  description: string | undefined;
}

/** One handler: a connection's claim on events, and its calls. */
export class Registration {
  readonly matches: NameMatcher;
  /** Calls pushed and not yet answered. */
  running = 0;
  /** Calls waiting for a free slot (running < concurrency), oldest first; settled ones are skipped (lazy deletion). */
  readonly queue: Call[] = [];
  queueHead = 0;
  /** Live calls in `queue`. */
  queued = 0;
  /** Queued and running calls in deadline order (every call gets the same timeout, so arrival order); settled ones skipped. */
  readonly deadlines: Call[] = [];
  deadlinesHead = 0;
  /** The timer armed for the earliest deadline, if any. */
  timer: { id: number } | null = null;
  /** Calls answered (ok or error), observer pushes delivered, and observer pushes lost to a full connection. */
  answered = 0;
  observed = 0;
  dropped = 0;
  /** False once unregistered or its connection closed: no new calls. */
  active = true;

  constructor(
    readonly id: string,
    readonly session: Session,
    readonly agentId: string | undefined,
    readonly input: RegistrationInput,
    readonly createdAt: number,
  ) {
    const matchers = input.events.map(compileGlob);
    this.matches = matchers.length === 1 ? matchers[0]! : (name) => matchers.some((match) => match(name));
  }

  /** Calls running or waiting: what the one-of choice balances. */
  get load(): number {
    return this.running + this.queued;
  }
}

/** Where calls for one event name go. */
export interface Route {
  readonly event: string;
  readonly exclusive: Registration | undefined;
  readonly members: readonly Registration[];
  readonly observers: readonly Registration[];
  /** The registered params schema callers must satisfy, if any. */
  readonly params: JsonSchema | undefined;
  readonly description: string | undefined;
  /** Round-robin position among `members`. */
  cursor: number;
}

/** Routes for names nobody handles are not kept; this many kept routes at most before the cache starts over. */
const MAX_CACHED_ROUTES = 10_000;

export class Registrations {
  private readonly byId = new Map<string, Registration>();
  private readonly routes = new Map<string, Route | null>();
  private exactNames: string[] | null = null;

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Registration | undefined {
    return this.byId.get(id);
  }

  all(): Registration[] {
    return [...this.byId.values()];
  }

  /** Adds a registration; refuses daemon namespaces, a second exclusive owner and a params schema that differs from one already registered. */
  add(registration: Registration): void {
    const { input } = registration;
    for (const pattern of input.events) {
      const namespace = pattern.includes(":") ? pattern.slice(0, pattern.indexOf(":")) : pattern;
      if (namespace.includes("*")) {
        throw new DaemonError("invalid_params", `${pattern}: the first segment of a handled event must be written out (a glob there could claim the daemon's own events)`, {
          issues: [{ path: "events", message: "the first segment may not contain *" }],
        });
      }
      if (DAEMON_NAMESPACES.has(namespace)) {
        throw new DaemonError("conflict", `${pattern} is in the daemon's own namespace ${namespace}: (${[...DAEMON_NAMESPACES].join(", ")}); handle events in a namespace of your own, e.g. task:${pattern.slice(namespace.length + 1) || "run"}`, {
          namespace,
        });
      }
      for (const other of this.byId.values()) {
        if (!other.input.events.includes(pattern)) continue;
        if (input.mode === "exclusive" && other.input.mode === "exclusive") {
          throw new DaemonError("conflict", `${pattern} already has an exclusive handler (${other.id}); register in a group to share it`, { handler_id: other.id });
        }
        if (input.params !== undefined && other.input.params !== undefined && canonicalJson(input.params) !== canonicalJson(other.input.params)) {
          throw new DaemonError("conflict", `${pattern} is registered by ${other.id} with another params schema; handlers of one event must agree on it`, { handler_id: other.id });
        }
      }
    }
    this.byId.set(registration.id, registration);
    this.changed();
  }

  remove(id: string): Registration | undefined {
    const registration = this.byId.get(id);
    if (registration === undefined) return undefined;
    this.byId.delete(id);
    registration.active = false;
    this.changed();
    return registration;
  }

  /** The route of `event`, or undefined when no registration matches it. */
  route(event: string): Route | undefined {
    let route = this.routes.get(event);
    if (route === undefined) {
      route = this.build(event);
      if (this.routes.size >= MAX_CACHED_ROUTES) this.routes.clear();
      this.routes.set(event, route);
    }
    return route ?? undefined;
  }

  /** Exact (non-glob) event names that have an owner, sorted: what system:discover lists. */
  ownedNames(): string[] {
    if (this.exactNames === null) {
      const names = new Set<string>();
      for (const registration of this.byId.values()) {
        if (registration.input.mode === "observe") continue;
        for (const pattern of registration.input.events) if (!pattern.includes("*")) names.add(pattern);
      }
      this.exactNames = [...names].sort();
    }
    return this.exactNames;
  }

  private changed(): void {
    this.routes.clear();
    this.exactNames = null;
  }

  private build(event: string): Route | null {
    let exclusive: Registration | undefined;
    let exclusiveIsExact = false;
    const members: Registration[] = [];
    const observers: Registration[] = [];
    let params: JsonSchema | undefined;
    let description: string | undefined;
    for (const registration of this.byId.values()) {
      if (!registration.matches(event)) continue;
      const { mode } = registration.input;
      if (mode === "observe") {
        observers.push(registration);
        continue;
      }
      const exact = registration.input.events.includes(event);
      if (mode === "exclusive" && (exclusive === undefined || (exact && !exclusiveIsExact))) {
        exclusive = registration;
        exclusiveIsExact = exact;
      }
      if (mode === "group") members.push(registration);
      params ??= registration.input.params;
      description ??= registration.input.description;
    }
    if (exclusive === undefined && members.length === 0 && observers.length === 0) return null;
    if (exclusive !== undefined) {
      params = exclusive.input.params ?? params;
      description = exclusive.input.description ?? description;
    }
    return { event, exclusive, members, observers, params, description, cursor: 0 };
  }
}

/** Does the route have someone who answers? */
export function isOwned(route: Route | undefined): route is Route {
  return route !== undefined && (route.exclusive !== undefined || route.members.length > 0);
}
