/**
 * The soak's clients. A worker is one connection and one agent_id doing,
 * in a seeded random order: saves of its own patterns, forks of the shared
 * parents, edits of its forks merged back, decision appends to shared
 * logs, delayed emits (some keyed, some cancelled, some replaced) and a
 * few immediate ones. A subscriber per worker receives the firings of its
 * worker's events. Both reconnect after the daemon is killed; a request
 * whose connection died is recorded as unknown, never as lost.
 */
import { connect, RequestTimeoutError, type Client } from "../../client/index.js";
import { asRecord, bumpMinor, isRecord, sleep, str, type EmitRecord, type Ledger, type Rng } from "./ledger.js";

export interface WorkerContext {
  socketPath: string;
  ledger: Ledger;
  /** Patterns every worker forks (and merges back into). */
  parents: readonly string[];
  /** Patterns whose decision logs every worker appends to. */
  decisionPatterns: readonly string[];
  decisionsEnabled: boolean;
  /** Makes payload ids and tokens unique to this run. */
  runTag: string;
}

type Outcome =
  | { kind: "ok"; data: Record<string, unknown> }
  | { kind: "error"; code: string; message: string; details: unknown }
  | { kind: "lost" };

const REQUEST_TIMEOUT_MS = 20_000;

/** A parent's strategy: one line per worker, separated by lines nobody edits, so merges of different workers' lines are clean. */
export function parentStrategy(workers: number): string {
  const lines = ["Soak-test pattern: each worker owns one line and edits only that line in its forks."];
  for (let i = 0; i < workers; i++) lines.push(`w${i}: init`, `-- separator ${i} --`);
  return lines.join("\n") + "\n";
}

/** One connection per call site: sends, and turns a dead connection into "lost". */
abstract class Connected {
  protected client: Client | null = null;

  constructor(
    protected readonly ctx: WorkerContext,
    protected readonly agentId: string,
  ) {}

  /** The live client, reconnecting (until `stop()`) after the daemon went away. */
  protected async connected(stop: () => boolean): Promise<Client | null> {
    while (this.client === null) {
      if (stop()) return null;
      try {
        const client = await connect({ socketPath: this.ctx.socketPath, agentId: this.agentId, timeoutMs: REQUEST_TIMEOUT_MS });
        void client.closed().then(() => {
          if (this.client === client) this.client = null;
        });
        this.client = client;
      } catch {
        await sleep(25);
      }
    }
    return this.client;
  }

  protected async call(client: Client, event: string, data: Record<string, unknown>): Promise<Outcome> {
    try {
      const reply = await client.send(event, data);
      if (reply.ok) return { kind: "ok", data: asRecord(reply.data) };
      return { kind: "error", code: reply.error.code, message: reply.error.message, details: reply.error.details };
    } catch (err) {
      if (err instanceof RequestTimeoutError) this.ctx.ledger.timeouts.push(`${this.agentId} ${event}: ${err.message}`);
      if (this.client === client) this.client = null;
      client.close().catch(() => undefined);
      return { kind: "lost" };
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.close();
  }
}

export class Worker extends Connected {
  private counter = 0;
  private readonly forks: { name: string; parent: string }[] = [];
  private readonly ownPatterns: string[];

  constructor(
    readonly index: number,
    private readonly rng: Rng,
    ctx: WorkerContext,
  ) {
    super(ctx, `soak_w${index}`);
    this.ownPatterns = [0, 1, 2].map((k) => `w${index}_p${k}`);
  }

  private token(kind: string): string {
    return `${this.ctx.runTag}-w${this.index}-${kind}${this.counter++}`;
  }

  async run(stop: () => boolean): Promise<void> {
    const weights = {
      save: 18,
      fork: 7,
      merge: 10,
      decision: this.ctx.decisionsEnabled ? 25 : 0,
      emit: 35,
      read: 5,
    };
    while (!stop()) {
      const client = await this.connected(stop);
      if (client === null) break;
      const op = this.rng.weighted(weights);
      if (op === "save") await this.save(client);
      else if (op === "fork") await this.fork(client);
      else if (op === "merge") await this.merge(client);
      else if (op === "decision") await this.decision(client);
      else if (op === "emit") await this.emit(client);
      else await this.read(client);
      await sleep(this.rng.int(0, 10));
    }
    await this.close();
  }

  private unexpected(what: string, outcome: Outcome & { kind: "error" }): void {
    const { ledger } = this.ctx;
    // A write refused because the disk is full is the answer asked for then (reads must still be served).
    const event = what.split(" ")[0]!;
    if (ledger.diskFull && outcome.code === "unavailable" && isRecord(outcome.details) && outcome.details.reason === "no_space" && event !== "read" && event !== "composition:get") {
      ledger.refused[event] = (ledger.refused[event] ?? 0) + 1;
      return;
    }
    ledger.unexpectedReply(`${this.agentId} ${what}`, outcome.code, outcome.message);
  }

  /** A new version of one of its own patterns, carrying a fresh token. */
  private async save(client: Client): Promise<void> {
    const name = this.rng.pick(this.ownPatterns);
    const current = await this.call(client, "composition:get", { name });
    if (current.kind === "lost") return;
    let version = "1.0.0";
    if (current.kind === "ok") version = bumpMinor(str(current.data.version) ?? "0.0.0");
    else if (current.code !== "not_found") return this.unexpected(`composition:get ${name}`, current);
    const token = this.token("save");
    const composition = {
      name,
      type: "orchestration",
      version,
      description: `soak pattern of worker ${this.index}`,
      metadata: { tags: ["soak"], soak_token: token },
      orchestration_logic: { description: "soak", strategy: `token ${token}\n` },
    };
    const saved = await this.call(client, "composition:save", { composition, message: `soak save ${token}` });
    if (saved.kind === "ok") {
      this.ctx.ledger.addMutation({
        kind: "save",
        worker: this.index,
        name,
        version: str(saved.data.version) ?? "?",
        commit: str(saved.data.commit) ?? "?",
        path: `orchestrations/${name}.yaml`,
        expect: { token },
      });
    } else if (saved.kind === "lost") this.ctx.ledger.lost("save", { kind: "save", name, what: `save ${name}@${version}` });
    else this.unexpected(`composition:save ${name}@${version}`, saved);
  }

  private async fork(client: Client): Promise<void> {
    const parent = this.rng.pick(this.ctx.parents);
    const name = `w${this.index}_f${this.counter++}`;
    const forked = await this.call(client, "composition:fork", { parent, name, reason: `soak fork by worker ${this.index}` });
    if (forked.kind === "ok") {
      this.ctx.ledger.addMutation({
        kind: "fork",
        worker: this.index,
        name,
        version: str(forked.data.version) ?? "?",
        commit: str(forked.data.commit) ?? "?",
        path: `orchestrations/${name}.yaml`,
        expect: { parent: str(forked.data.parent) ?? "?" },
      });
      this.forks.push({ name, parent });
    } else if (forked.kind === "lost") this.ctx.ledger.lost("fork", { kind: "fork", name, what: `fork ${parent} -> ${name}` });
    else this.unexpected(`composition:fork ${parent} -> ${name}`, forked);
  }

  /** Edits this worker's line in one of its forks (a save), then merges the fork back into its parent. */
  private async merge(client: Client): Promise<void> {
    if (this.forks.length === 0) return this.fork(client);
    const fork = this.rng.pick(this.forks);
    const current = await this.call(client, "composition:get", { name: fork.name });
    if (current.kind === "lost") return;
    if (current.kind === "error") return this.unexpected(`composition:get ${fork.name}`, current);
    const doc = asRecord(current.data.composition);
    const logic = asRecord(doc.orchestration_logic);
    const value = this.token("line");
    const line = `w${this.index}: ${value}`;
    const strategy = (str(logic.strategy) ?? "").replace(new RegExp(`^w${this.index}: .*$`, "m"), line);
    const version = bumpMinor(str(doc.version) ?? "0.1.0");
    const edited = { ...doc, version, orchestration_logic: { ...logic, strategy } };
    const saved = await this.call(client, "composition:save", { composition: edited, message: `soak edit ${value}` });
    if (saved.kind === "lost") return this.ctx.ledger.lost("save", { kind: "save", name: fork.name, what: `save ${fork.name}@${version}` });
    if (saved.kind === "error") return this.unexpected(`composition:save ${fork.name}@${version}`, saved);
    this.ctx.ledger.addMutation({
      kind: "save",
      worker: this.index,
      name: fork.name,
      version: str(saved.data.version) ?? "?",
      commit: str(saved.data.commit) ?? "?",
      path: `orchestrations/${fork.name}.yaml`,
      expect: { line },
    });
    const merged = await this.call(client, "composition:merge", { source: fork.name, message: `soak merge ${value}` });
    if (merged.kind === "ok") {
      this.ctx.ledger.addMutation({
        kind: "merge",
        worker: this.index,
        name: fork.parent,
        version: str(merged.data.version) ?? "?",
        commit: str(merged.data.commit) ?? "?",
        path: `orchestrations/${fork.parent}.yaml`,
        expect: { line },
      });
    } else if (merged.kind === "lost") this.ctx.ledger.lost("merge", { kind: "merge", name: fork.parent, what: `merge ${fork.name} -> ${fork.parent}` });
    else if (merged.code === "merge_conflict") this.ctx.ledger.mergeConflicts++;
    else this.unexpected(`composition:merge ${fork.name}`, merged);
  }

  private async decision(client: Client): Promise<void> {
    const pattern = this.rng.pick(this.ctx.decisionPatterns);
    const token = this.token("dec");
    const data = {
      pattern,
      decision: `soak decision ${token}`,
      outcome: this.rng.pick(["success", "failure", "partial"]),
      confidence: Math.round(this.rng.float() * 100) / 100,
      ...(this.rng.chance(0.3) ? { context: { worker: this.index, note: "context: with # and - and 'quotes'", n: this.counter } } : {}),
    };
    const tracked = await this.call(client, "composition:track_decision", data);
    const { ledger } = this.ctx;
    if (tracked.kind === "ok") {
      const record = asRecord(tracked.data.tracked);
      ledger.decisions.push({ token, pattern, worker: this.index, status: "acked", id: str(record.id), file: str(tracked.data.file) });
      ledger.ack("decision");
    } else if (tracked.kind === "lost") {
      ledger.decisions.push({ token, pattern, worker: this.index, status: "unknown" });
      ledger.lost("decision");
    } else this.unexpected(`composition:track_decision ${pattern}`, tracked);
  }

  private newEmit(delayed: boolean, delay: number, key?: string): EmitRecord {
    const pid = this.token("e");
    const now = Date.now();
    const record: EmitRecord = {
      pid,
      worker: this.index,
      event: `soak:w${this.index}:${this.rng.pick(["a", "b"])}`,
      delayed,
      sentAt: now,
      latestFireAt: now + delay * 1000,
      status: "sending",
      cancel: "none",
      replaced: "none",
      ...(key === undefined ? {} : { key }),
    };
    this.ctx.ledger.emits.set(pid, record);
    return record;
  }

  /** Sends the emit of `record`; true when acknowledged. */
  private async sendEmit(client: Client, record: EmitRecord, delay: number): Promise<Outcome> {
    const data: Record<string, unknown> = { event: record.event, data: { pid: record.pid, w: this.index } };
    if (record.delayed) data.delay = delay;
    if (record.key !== undefined) data.key = record.key;
    const { ledger } = this.ctx;
    const emitted = await this.call(client, "event:emit", data);
    const kind = record.delayed ? "emit (delayed)" : "emit (immediate)";
    if (emitted.kind === "ok") {
      record.status = "acked";
      ledger.ack(kind);
      if (record.delayed) {
        record.scheduleId = str(emitted.data.schedule_id);
        const fireAt = str(emitted.data.fire_at);
        if (fireAt !== undefined) record.fireAt = Date.parse(fireAt);
        if (record.scheduleId === undefined || record.fireAt === undefined) {
          ledger.unexpected.push(`${this.agentId} event:emit ${record.pid}: reply without schedule_id/fire_at: ${JSON.stringify(emitted.data)}`);
        }
        const replaced = str(emitted.data.replaced);
        if (replaced !== undefined) record.replacedId = replaced;
      } else if (emitted.data.emitted !== true) {
        ledger.unexpected.push(`${this.agentId} event:emit ${record.pid}: immediate emit not emitted: ${JSON.stringify(emitted.data)}`);
      }
    } else if (emitted.kind === "lost") {
      record.status = "unknown";
      ledger.lost(kind);
    } else {
      record.status = "rejected";
      this.unexpected(`event:emit ${record.pid}`, emitted);
    }
    return emitted;
  }

  private async emit(client: Client): Promise<void> {
    const variant = this.rng.weighted({ plain: 65, cancel: 15, replace: 12, immediate: 8 });
    if (variant === "immediate") {
      await this.sendEmit(client, this.newEmit(false, 0), 0);
      return;
    }
    if (variant === "plain") {
      const delay = Math.round(this.rng.between(0.2, 3) * 1000) / 1000;
      await this.sendEmit(client, this.newEmit(true, delay), delay);
      return;
    }
    const key = `${this.ctx.runTag}-w${this.index}-k${this.counter++}`;
    if (variant === "cancel") {
      const delay = Math.round(this.rng.between(0.3, 3) * 1000) / 1000;
      const record = this.newEmit(true, delay, key);
      const sent = await this.sendEmit(client, record, delay);
      if (sent.kind !== "ok") return;
      await sleep(this.rng.int(0, 150));
      const target = this.rng.chance(0.5) || record.scheduleId === undefined ? { key } : { schedule_id: record.scheduleId };
      const cancelled = await this.call(client, "event:cancel", target);
      if (cancelled.kind === "ok") {
        record.cancel = "acked";
        this.ctx.ledger.ack("cancel");
        if (record.scheduleId !== undefined && cancelled.data.schedule_id !== record.scheduleId) {
          this.ctx.ledger.unexpected.push(`${this.agentId} event:cancel ${JSON.stringify(target)} cancelled ${String(cancelled.data.schedule_id)}, not ${record.scheduleId}`);
        }
      } else if (cancelled.kind === "lost") {
        record.cancel = "unknown";
        this.ctx.ledger.lost("cancel");
      } else if (cancelled.code === "not_found") record.cancel = "not_found";
      else this.unexpected(`event:cancel ${record.pid}`, cancelled);
      return;
    }
    // replace: a second emit with the same key replaces the first, which must then never fire.
    const first = this.newEmit(true, Math.round(this.rng.between(1.2, 3) * 1000) / 1000, key);
    const firstSent = await this.sendEmit(client, first, (first.latestFireAt - first.sentAt) / 1000);
    if (firstSent.kind === "lost") return;
    await sleep(this.rng.int(0, 100));
    const delay = Math.round(this.rng.between(0.2, 3) * 1000) / 1000;
    const second = this.newEmit(true, delay, key);
    const secondSent = await this.sendEmit(client, second, delay);
    if (secondSent.kind === "ok") {
      this.ctx.ledger.ack("replace");
      if (second.replacedId !== undefined) {
        first.replaced = "acked";
        if (first.scheduleId !== undefined && second.replacedId !== first.scheduleId) {
          this.ctx.ledger.unexpected.push(`${this.agentId} keyed emit ${second.pid} replaced ${second.replacedId}, expected ${first.scheduleId}`);
        }
      }
    } else if (secondSent.kind === "lost") first.replaced = "unknown";
  }

  /** Reads, so the daemon also serves lookups while it writes. */
  private async read(client: Client): Promise<void> {
    const which = this.rng.weighted({ get: 3, list: 1, scheduled: 1 });
    const outcome =
      which === "get"
        ? await this.call(client, "composition:get", { name: this.rng.pick(this.ctx.parents) })
        : which === "list"
          ? await this.call(client, "composition:list", { type: "orchestration" })
          : await this.call(client, "event:scheduled", { event: `soak:w${this.index}:*` });
    if (outcome.kind === "error") this.unexpected(`read ${which}`, outcome);
  }
}

/** Receives the firings of one worker's events and records each push's payload id with its seq. */
export class Subscriber extends Connected {
  /** Resolves once the first subscription is in place. */
  readonly ready: Promise<void>;
  private markReady!: () => void;
  subscriptions = 0;

  constructor(
    readonly index: number,
    ctx: WorkerContext,
  ) {
    super(ctx, `soak_sub${index}`);
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  async run(stop: () => boolean): Promise<void> {
    while (!stop()) {
      const client = await this.connected(stop);
      if (client === null) break;
      let subscription;
      try {
        // seq starts again at 1 on every daemon start and since_seq replays only from the running
        // daemon's memory, so nothing fired while no daemon was up can be replayed: firings missed
        // between a kill and this resubscription are read from the event log by the checks.
        subscription = await client.subscribe([`soak:w${this.index}:*`]);
      } catch {
        if (this.client === client) this.client = null;
        continue;
      }
      this.subscriptions++;
      this.markReady();
      for await (const push of subscription) {
        if (push.event === "monitor:dropped") {
          this.ctx.ledger.badPushes.push(`subscription ${push.subscription} of ${this.agentId} was dropped: ${JSON.stringify(push.data)}`);
          break;
        }
        const data = isRecord(push.data) ? push.data : {};
        this.ctx.ledger.recordPush(`${this.agentId}/${push.subscription}`, data.pid, push.seq, push.ts);
      }
      if (this.client === client && !stop()) {
        // The iteration ended with the connection open (dropped): start over on a new one.
        this.client = null;
        await client.close();
      }
    }
  }

  /** Ends the subscription loop (its iteration finishes when the connection closes). */
  async shutdown(): Promise<void> {
    await this.close();
  }
}
