/**
 * What the soak's clients were told: every acknowledged request (with the
 * version, commit, schedule id or record id the daemon answered), every
 * request whose connection died before its reply ("unknown": it may or may
 * not have happened, but at most once), and every push the subscribers
 * received. The invariant checks compare this ledger with the store, git
 * and the event log once the run is over.
 */
import { seededRandom } from "../../bench/random.js";

/** A seeded PRNG with the helpers the soak needs; the same seed gives the same choices. */
export class Rng {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = seededRandom(seed);
  }

  float(): number {
    return this.next();
  }

  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[Math.floor(this.next() * items.length)]!;
  }

  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    const total = entries.reduce((sum, [, w]) => sum + w, 0);
    let roll = this.next() * total;
    for (const [key, weight] of entries) {
      roll -= weight;
      if (roll < 0) return key;
    }
    return entries[entries.length - 1]![0];
  }

  /** Random bytes (for fuzzing). */
  bytes(count: number): Buffer {
    const out = Buffer.alloc(count);
    for (let i = 0; i < count; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
}

/** A derived seed, so each worker (and the kill plan, and the fuzzer) has its own stream. */
export function subSeed(seed: number, stream: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(stream + 1, 0xc2b2ae35)) >>> 0;
}

export type MutationKind = "save" | "fork" | "merge";

/** A save, fork or merge the daemon acknowledged. */
export interface AckedMutation {
  kind: MutationKind;
  worker: number;
  name: string;
  version: string;
  commit: string;
  /** Store-relative path of the pattern file. */
  path: string;
  /** What the file at the tag must hold. */
  expect: { token?: string; line?: string; parent?: string };
}

export type EmitStatus = "sending" | "acked" | "unknown" | "rejected";
export type FollowUp = "none" | "acked" | "unknown" | "not_found";

export interface EmitRecord {
  /** Unique payload id carried in the emitted event's data. */
  pid: string;
  worker: number;
  event: string;
  delayed: boolean;
  sentAt: number;
  /** Latest time it may fire (sentAt + delay, for unknown ones too). */
  latestFireAt: number;
  status: EmitStatus;
  scheduleId?: string;
  fireAt?: number;
  key?: string;
  /** An event:cancel for it: acknowledged (it must never fire), lost, or answered not_found. */
  cancel: FollowUp;
  /** Another emit with the same key replaced it (acknowledged), or such an emit's reply was lost. */
  replaced: FollowUp;
  /** For an emit that reused a key: the schedule its reply said it replaced. */
  replacedId?: string;
}

export interface DecisionSent {
  token: string;
  pattern: string;
  worker: number;
  status: "acked" | "unknown";
  id?: string;
  /** Store-relative path of the log, from the reply. */
  file?: string;
}

/** A push seen by a subscriber: one firing of a payload id. */
export interface Firing {
  seq: number;
  ts: string;
}

export class Ledger {
  readonly mutations: AckedMutation[] = [];
  readonly emits = new Map<string, EmitRecord>();
  readonly decisions: DecisionSent[] = [];
  readonly acknowledged: Record<string, number> = {};
  readonly unknown: Record<string, number> = {};
  /** merge_conflict answers (legitimate: two forks edited the same line). */
  mergeConflicts = 0;
  /** Error replies no request of the soak should get (each with its evidence). */
  readonly unexpected: string[] = [];
  /** Requests that got no reply within the client timeout while the connection stayed open. */
  readonly timeouts: string[] = [];
  /** True while the home's disk is full (and a moment after): writes refused as unavailable are then counted, not failures. */
  diskFull = false;
  /** Writes refused as unavailable while the disk was full, per event. */
  readonly refused: Record<string, number> = {};
  /** payload id → firings pushed to subscribers, keyed `seq|ts`. */
  readonly pushes = new Map<string, Map<string, Firing>>();
  /** Pushes that arrived twice on one subscription, or whose payload id no emit of the soak carried. */
  readonly badPushes: string[] = [];
  pushCount = 0;

  ack(kind: string): void {
    this.acknowledged[kind] = (this.acknowledged[kind] ?? 0) + 1;
  }

  /** Mutations cut by a kill: the pattern whose commit they would make, and what they were (`fork soak_parent_0 -> w2_f118`). */
  readonly lostMutations: { kind: MutationKind; name: string; what: string }[] = [];

  lost(kind: string, mutation?: { kind: MutationKind; name: string; what: string }): void {
    this.unknown[kind] = (this.unknown[kind] ?? 0) + 1;
    if (mutation !== undefined) this.lostMutations.push(mutation);
  }

  addMutation(mutation: AckedMutation): void {
    this.mutations.push(mutation);
    this.ack(mutation.kind);
  }

  unexpectedReply(what: string, code: string, message: string): void {
    this.unexpected.push(`${what}: ${code}: ${message}`);
  }

  recordPush(subscription: string, pid: unknown, seq: number, ts: string): void {
    this.pushCount++;
    if (typeof pid !== "string" || !this.emits.has(pid)) {
      this.badPushes.push(`push seq ${seq} on ${subscription} carries payload id ${JSON.stringify(pid)}, which no emit of the soak sent`);
      return;
    }
    let firings = this.pushes.get(pid);
    if (firings === undefined) this.pushes.set(pid, (firings = new Map<string, Firing>()));
    const key = `${seq}|${ts}`;
    if (firings.has(key)) this.badPushes.push(`push of ${pid} (seq ${seq}, ${ts}) arrived twice`);
    firings.set(key, { seq, ts });
  }
}

export function bumpMinor(version: string): string {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (match === null) return "1.0.0";
  return `${match[1]}.${Number(match[2]) + 1}.0`;
}

/** Semver order of the x.y.z part (pre-release tags are not used by the soak). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).slice(0, 3).map(Number);
  const pb = b.split(/[.+-]/).slice(0, 3).map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** `work`, or "timeout" after `ms` (the timer is cleared either way, so it never keeps the process alive). */
export async function within<T>(work: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
