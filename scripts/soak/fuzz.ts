/**
 * Protocol fuzzing (SPEC §2): raw connections send invalid, truncated,
 * mutated, deeply nested, binary and oversized lines. Every non-blank line
 * must get exactly one reply, in order, that is a JSON object with ok:true
 * or ok:false and a known error code (never `internal`); a line over the
 * 8 MiB limit gets too_large and the connection is closed; a half-written
 * line followed by a close gets nothing. Meanwhile a well-formed client
 * keeps asking system:health and composition:get and must get every reply
 * ok. Requests that would change what the soak checks (shutdown, deletes,
 * forks, merges, the soak's own events) are never generated.
 */
import { ERROR_CODES } from "../../daemon/core/errors.js";
import { createConnection, type Socket } from "node:net";
import { connect } from "../../client/index.js";
import { isRecord, Rng, sleep, subSeed } from "./ledger.js";

export const KNOWN_CODES = new Set<string>(ERROR_CODES);

const MAX_LINE_BYTES = 8 * 1024 * 1024;
const REPLY_TIMEOUT_MS = 15_000;

export interface FuzzResult {
  seconds: number;
  connections: number;
  /** Lines written (each newline-terminated, blank ones included). */
  lines: number;
  /** Lines that must be answered (non-blank). */
  expected: number;
  replies: number;
  pushes: number;
  okReplies: number;
  byCode: Record<string, number>;
  halfLinesClosed: number;
  tooLarge: { sent: number; answered: number; closed: number };
  wellFormed: { requests: number; ok: number; maxMs: number };
  problems: string[];
}

/** Strings that stress quoting, YAML and JSON, and never name a daemon event. */
const NASTY = [
  "",
  " ",
  "a: b",
  "- item",
  "# comment",
  "key: [1, {a: b}]",
  "'single'",
  '"double"',
  "line1\nline2",
  "tab\there",
  "&anchor *alias",
  "!!binary",
  "? complex",
  "%YAML 1.2",
  "---",
  "...",
  "null",
  "~",
  "yes",
  "0x1F",
  "1e309",
  "-.inf",
  "\u0000nul",
  "\u2028sep",
  "\ud83d\ude00 emoji",
  "\ud800 lone surrogate",
  "é ü ñ 中文",
  "{{var}}",
  "__proto__",
  "constructor",
  "../../etc/passwd",
  "x".repeat(3000),
];

const SAFE_NAMES = ["tournament", "consensus_builder", "soak_parent_0", "nonexistent_pattern", "tournament@2.0.0", "tournament@9.9.9", "bad name!"];

export class Fuzzer {
  private readonly result: FuzzResult;

  constructor(
    private readonly socketPath: string,
    private readonly seed: number,
    private readonly log: (line: string) => void,
  ) {
    this.result = {
      seconds: 0,
      connections: 0,
      lines: 0,
      expected: 0,
      replies: 0,
      pushes: 0,
      okReplies: 0,
      byCode: {},
      halfLinesClosed: 0,
      tooLarge: { sent: 0, answered: 0, closed: 0 },
      wellFormed: { requests: 0, ok: 0, maxMs: 0 },
      problems: [],
    };
  }

  async run(seconds: number, connections: number, oversized: number): Promise<FuzzResult> {
    const started = Date.now();
    const deadline = started + seconds * 1000;
    const stop = () => Date.now() >= deadline;
    this.result.connections = connections;
    const stalled = await this.stalledSubscriber();
    const tasks = [this.wellFormedClient(stop)];
    for (let i = 0; i < connections; i++) tasks.push(this.fuzzConnection(stop, new Generator(new Rng(subSeed(this.seed, i)), `c${i}`)));
    for (let i = 0; i < oversized; i++) tasks.push(sleep((seconds * 1000 * (i + 1)) / (oversized + 1)).then(() => this.oversized()));
    await Promise.all(tasks);
    stalled.destroy();
    this.result.seconds = (Date.now() - started) / 1000;
    return this.result;
  }

  private problem(text: string): void {
    if (this.result.problems.length < 50) this.result.problems.push(text);
    this.log(`  fuzz problem: ${text}`);
  }

  /** A subscriber to everything that never reads: the daemon must not grow without bound for it. */
  private async stalledSubscriber(): Promise<Socket> {
    const socket = await open(this.socketPath);
    socket.write(JSON.stringify({ event: "monitor:subscribe", data: { patterns: ["**"] }, id: "stalled" }) + "\n");
    socket.pause();
    return socket;
  }

  /** system:health and composition:get on a client of the library: every reply must be ok. */
  private async wellFormedClient(stop: () => boolean): Promise<void> {
    const client = await connect({ socketPath: this.socketPath, agentId: "soak_fuzz_witness", timeoutMs: REPLY_TIMEOUT_MS });
    try {
      while (!stop()) {
        for (const [event, data] of [
          ["system:health", {}],
          ["composition:get", { name: "soak_parent_0" }],
        ] as const) {
          const began = performance.now();
          this.result.wellFormed.requests++;
          try {
            const reply = await client.send(event, data);
            const ms = performance.now() - began;
            this.result.wellFormed.maxMs = Math.max(this.result.wellFormed.maxMs, ms);
            if (reply.ok) this.result.wellFormed.ok++;
            else this.problem(`well-formed ${event} answered ${reply.error.code}: ${reply.error.message}`);
          } catch (err) {
            this.problem(`well-formed ${event} failed: ${(err as Error).message}`);
            return;
          }
        }
        await sleep(5);
      }
    } finally {
      await client.close();
    }
  }

  private async fuzzConnection(stop: () => boolean, gen: Generator): Promise<void> {
    const rng = gen.rng;
    let conn = await Conn.open(this.socketPath);
    while (!stop()) {
      if (rng.chance(0.03)) {
        // A half-written line, then the client goes away: nothing to answer.
        const partial = gen.validRequestText();
        await conn.write(Buffer.from(partial.slice(0, rng.int(1, Math.max(1, partial.length - 1)))));
        await sleep(2);
        conn.destroy();
        this.result.halfLinesClosed++;
        conn = await Conn.open(this.socketPath);
        continue;
      }
      const lines: Buffer[] = [];
      const count = rng.int(1, 16);
      for (let i = 0; i < count; i++) lines.push(gen.message());
      const expected = lines.filter(needsReply).length;
      const payload = Buffer.concat(lines.flatMap((line) => [line, Buffer.from(rng.chance(0.1) ? "\r\n" : "\n")]));
      this.result.lines += lines.length;
      this.result.expected += expected;
      // Split into random chunks: framing must not depend on how the bytes arrive.
      let at = 0;
      while (at < payload.length) {
        const size = rng.chance(0.5) ? payload.length - at : rng.int(1, Math.max(1, payload.length - at));
        await conn.write(payload.subarray(at, at + size));
        at += size;
      }
      const replies = await conn.take(expected, REPLY_TIMEOUT_MS);
      if (replies === null) {
        this.problem(`expected ${expected} replies, got ${conn.received()} within ${REPLY_TIMEOUT_MS} ms (closed: ${conn.closed}); last lines: ${lines.map((l) => preview(l)).join(" | ")}`);
        conn.destroy();
        conn = await Conn.open(this.socketPath);
        continue;
      }
      for (const reply of replies) this.checkReply(reply, lines);
      this.result.pushes += conn.takePushes();
    }
    conn.destroy();
  }

  private checkReply(text: string, sent: Buffer[]): void {
    this.result.replies++;
    let reply: unknown;
    try {
      reply = JSON.parse(text);
    } catch {
      return this.problem(`reply is not JSON: ${text.slice(0, 200)}`);
    }
    if (!isRecord(reply)) return this.problem(`reply is not an object: ${text.slice(0, 200)}`);
    if (reply.ok === true) {
      this.result.okReplies++;
      if (!("data" in reply)) this.problem(`ok reply without data: ${text.slice(0, 200)}`);
      return;
    }
    const error = isRecord(reply.error) ? reply.error : null;
    const code = typeof error?.code === "string" ? error.code : null;
    if (reply.ok !== false || code === null || !KNOWN_CODES.has(code) || typeof error?.message !== "string") {
      return this.problem(`malformed reply: ${text.slice(0, 300)}`);
    }
    this.result.byCode[code] = (this.result.byCode[code] ?? 0) + 1;
    if (code === "internal") this.problem(`internal error: ${text.slice(0, 300)}; batch: ${sent.map((l) => preview(l)).join(" | ")}`);
    if (code === "too_large" || code === "shutting_down") this.problem(`unexpected ${code} for a short line: ${text.slice(0, 300)}`);
  }

  /** One line over the limit: answered with too_large, then the connection is closed. */
  private async oversized(): Promise<void> {
    const conn = await Conn.open(this.socketPath);
    this.result.tooLarge.sent++;
    await conn.write(Buffer.from(JSON.stringify({ event: "system:health", id: "before-big" }) + "\n"));
    const head = Buffer.from('{"event":"system:health","id":"big","data":{"blob":"');
    const body = Buffer.alloc(MAX_LINE_BYTES + 1024, 0x61);
    // The daemon may close while we still write: that is the expected outcome, not an error.
    await conn.write(Buffer.concat([head, body, Buffer.from('"}}\n')]));
    const replies = await conn.take(2, REPLY_TIMEOUT_MS);
    if (replies === null) {
      this.problem(`oversized line: expected 2 replies (health, too_large), got ${conn.received()}`);
    } else {
      const first = parse(replies[0]!);
      const second = parse(replies[1]!);
      if (first?.ok !== true) this.problem(`oversized line: the request before it was not answered ok: ${replies[0]}`);
      const error = isRecord(second?.error) ? second.error : {};
      const details = isRecord(error.details) ? error.details : {};
      if (second?.ok === false && error.code === "too_large" && details.limit === MAX_LINE_BYTES) this.result.tooLarge.answered++;
      else this.problem(`oversized line answered ${replies[1]}`);
    }
    if (await conn.waitClosed(REPLY_TIMEOUT_MS)) this.result.tooLarge.closed++;
    else this.problem("oversized line: the connection stayed open after too_large");
    conn.destroy();
  }
}

/** The fuzz messages of one connection, from its own seeded stream (so a seed replays each connection's lines). */
class Generator {
  private saveCounter = 0;

  constructor(
    readonly rng: Rng,
    private readonly prefix: string,
  ) {}

  message(): Buffer {
    const kind = this.rng.weighted({
      valid: 14,
      mutatedObject: 18,
      mutatedText: 12,
      truncated: 8,
      hugeNumbers: 4,
      deep: 5,
      topLevel: 5,
      wrongTypes: 8,
      unknownEvent: 6,
      bytes: 8,
      blank: 3,
      big: 1,
      decision: 4,
      save: 3,
    });
    switch (kind) {
      case "valid":
        return Buffer.from(this.validRequestText());
      case "mutatedObject":
        return Buffer.from(JSON.stringify(this.mutate(this.validRequest())));
      case "mutatedText":
        return this.mutateBytes(Buffer.from(this.validRequestText()));
      case "truncated": {
        const text = this.validRequestText();
        return Buffer.from(text.slice(0, this.rng.int(0, text.length - 1)));
      }
      case "hugeNumbers":
        return Buffer.from(
          this.rng.pick([
            '{"event":"system:health","id":1e999999}',
            '{"event":"system:health","id":123456789012345678901234567890}',
            '{"event":"state:set","data":{"key":"fuzz.n","value":1e400}}',
            '{"event":"event:scheduled","data":{"limit":1e308}}',
            '{"event":"event:emit","data":{"event":"fuzz:x","delay":1e308}}',
            '{"event":"event:emit","data":{"event":"fuzz:x","delay":-0.0000001}}',
            '{"event":"composition:decisions","data":{"pattern":"tournament","limit":-1e-300}}',
            `{"event":"system:health","id":${"9".repeat(400)}}`,
          ]),
        );
      case "deep": {
        const depth = this.rng.pick([127, 128, 129, 200, 5_000, 100_000]);
        const open = this.rng.chance(0.5) ? "[" : '{"a":';
        const close = open === "[" ? "]" : "}";
        const nested = open.repeat(depth) + "1" + close.repeat(depth);
        return Buffer.from(this.rng.chance(0.5) ? nested : `{"event":"system:health","data":{"x":${nested}}}`);
      }
      case "topLevel":
        return Buffer.from(this.rng.pick(["[]", '[{"event":"system:health"}]', '"system:health"', "42", "null", "true", "{}", '{"data":{}}']));
      case "wrongTypes":
        return Buffer.from(
          JSON.stringify(
            this.rng.pick<Record<string, unknown>>([
              { event: 42 },
              { event: null },
              { event: "" },
              { event: ["system:health"] },
              { event: { name: "system:health" } },
              { event: "system:health", data: [] },
              { event: "system:health", data: "x" },
              { event: "system:health", data: null },
              { event: "system:health", id: { a: 1 } },
              { event: "system:health", id: [1] },
              { event: "system:health", id: true },
              { event: "system:health", agent_id: 7 },
              { event: "system:health", correlation_id: "c1" },
              { event: "composition:get", data: { name: 5 } },
              { event: "event:emit", data: { event: 5 } },
              { event: "event:emit", data: { event: "fuzz:x", data: [] } },
              { event: "event:emit", data: { event: "fuzz:x", delay: "soon" } },
              { event: "event:emit", data: { event: "fuzz:x", delay: 1, at: "2020-01-01T00:00:00Z" } },
              { event: "event:emit", data: { event: "fuzz:x", condition: { eval: ["1"] } } },
              { event: "event:emit", data: { event: "fuzz:x", condition: "state.a.b == 4" } },
              { event: "event:emit", data: { event: "fuzz:x", at: "2020-01-01T00:00:00Z" } },
              { event: "composition:discover", data: { where: "performance.avg_score>0.7" } },
              { event: "monitor:subscribe", data: { patterns: "**" } },
              { event: "state:set", data: { key: null, value: 1 } },
            ]),
          ),
        );
      case "unknownEvent":
        return Buffer.from(
          JSON.stringify({
            event: this.rng.pick(["system:helth", "composition:frobnicate", "event:emitt", "monitor:", ":", "foo", "a:b:c", "state:", "fuzz"]),
            data: {},
            id: this.rng.int(0, 1e6),
          }),
        );
      case "bytes": {
        const bytes = this.rng.bytes(this.rng.int(1, 300));
        // No newline inside a line; keep NULs and invalid UTF-8 (0xC0, 0xFF, lone continuation bytes).
        for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) bytes[i] = 0x00;
        return bytes;
      }
      case "blank":
        return Buffer.from(this.rng.pick(["", " ", "\t", "   \t ", "\u00a0"]));
      case "big":
        return Buffer.from(JSON.stringify({ event: "composition:validate", data: { yaml: "x: " + "y".repeat(this.rng.int(100_000, 1_500_000)) }, id: "big" }));
      case "decision":
        return Buffer.from(
          JSON.stringify({
            event: "composition:track_decision",
            data: {
              pattern: this.rng.pick(["tournament", "nonexistent_pattern", "tournament_decisions"]),
              decision: this.rng.pick(NASTY),
              ...(this.rng.chance(0.5) ? { outcome: this.rng.pick(NASTY) } : {}),
              ...(this.rng.chance(0.5) ? { confidence: this.rng.pick([0, 1, 0.5, -1, 2, 1e-9]) } : {}),
              ...(this.rng.chance(0.5) ? { context: { text: this.rng.pick(NASTY), list: [this.rng.pick(NASTY)] } } : {}),
            },
            agent_id: this.rng.pick(["fuzz", "a b", "x".repeat(200), "é"]),
          }),
        );
      case "save":
        return Buffer.from(
          JSON.stringify({
            event: "composition:save",
            data: {
              composition: {
                name: `fuzz_${this.prefix}_${this.saveCounter++}`,
                type: "orchestration",
                version: "1.0.0",
                description: this.rng.pick(NASTY) || "empty",
                metadata: { tags: [this.rng.pick(NASTY)], note: this.rng.pick(NASTY) },
                orchestration_logic: { description: this.rng.pick(NASTY), strategy: this.rng.pick(NASTY) },
              },
            },
          }),
        );
    }
  }

  private validRequest(): Record<string, unknown> {
    const rng = this.rng;
    const pick = rng.weighted({
      health: 3,
      hello: 1,
      discover: 1,
      help: 1,
      list: 1,
      get: 2,
      validate: 1,
      diff: 1,
      emit: 3,
      scheduled: 1,
      cancel: 1,
      state: 2,
      events: 1,
      subscribe: 1,
    });
    const id = rng.chance(0.8) ? rng.int(1, 1e9) : `f${rng.int(1, 1e6)}`;
    const request = (event: string, data: Record<string, unknown>) => ({ event, data, id });
    switch (pick) {
      case "health":
        return request("system:health", {});
      case "hello":
        return request("system:hello", { agent_id: `fuzz_${rng.int(0, 99)}`, client: "soak-fuzz" });
      case "discover":
        return request("system:discover", rng.chance(0.5) ? {} : { namespace: rng.pick(["system", "event", "x"]) });
      case "help":
        return request("system:help", { event: rng.pick(["system:health", "event:emit", "composition:merge", "nope:nope"]) });
      case "list":
        return request("composition:list", rng.chance(0.5) ? {} : { type: "orchestration" });
      case "get":
        return request("composition:get", { name: rng.pick(SAFE_NAMES), ...(rng.chance(0.3) ? { format: "yaml" } : {}) });
      case "validate":
        return request("composition:validate", { yaml: rng.pick(["name: x\n", "a: [", "name: fuzz\ntype: orchestration\nversion: 1.0.0\ndescription: d\n", "&a [*a, *a]"]) });
      case "diff":
        return request("composition:diff", { left: rng.pick(SAFE_NAMES), right: rng.pick(SAFE_NAMES) });
      case "emit": {
        const data: Record<string, unknown> = { event: `fuzz:${rng.pick(["a", "b", "c"])}`, data: { n: rng.int(0, 100), s: rng.pick(NASTY) } };
        if (rng.chance(0.3)) data.delay = rng.pick([0, 0.05, 0.5, 2]);
        if (rng.chance(0.2)) data.condition = { "==": [{ var: "data.n" }, rng.int(0, 3)] };
        if (rng.chance(0.2)) data.key = `fuzz-${rng.int(0, 5)}`;
        return request("event:emit", data);
      }
      case "scheduled":
        return request("event:scheduled", { event: "fuzz:*", limit: rng.int(1, 20) });
      case "cancel":
        return request("event:cancel", rng.chance(0.5) ? { key: `fuzz-${rng.int(0, 5)}` } : { schedule_id: `sch_${rng.int(0, 1e6)}` });
      case "state":
        return rng.chance(0.5)
          ? request("state:set", { key: `fuzz.k${rng.int(0, 20)}`, value: rng.pick<unknown>([1, "x", null, { a: [1, 2] }, rng.pick(NASTY)]) })
          : request("state:get", { key: `fuzz.k${rng.int(0, 20)}` });
      case "events":
        return request("monitor:get_events", { patterns: ["fuzz:*"], limit: rng.int(1, 5) });
      case "subscribe":
        return request("monitor:subscribe", { patterns: ["fuzz:*"] });
    }
  }

  validRequestText(): string {
    return JSON.stringify(this.validRequest());
  }

  /** Random edits of keys and values, never producing a daemon event name from nothing. */
  private mutate(request: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...request };
    const data: Record<string, unknown> = isRecord(out.data) ? { ...out.data } : {};
    out.data = data;
    const edits = this.rng.int(1, 3);
    for (let i = 0; i < edits; i++) {
      const target = this.rng.chance(0.5) ? out : data;
      const keys = Object.keys(target);
      const what = this.rng.weighted({ drop: 2, rename: 2, retype: 4, add: 2 });
      const key = keys.length > 0 ? this.rng.pick(keys) : "x";
      if (what === "drop") delete target[key];
      else if (what === "rename") {
        const value = target[key];
        delete target[key];
        target[this.mutateString(key)] = value;
      } else if (what === "retype") {
        const value = target[key];
        target[key] = key === "event" && typeof value === "string" && this.rng.chance(0.5) ? this.mutateString(value) : this.randomValue(0);
      } else {
        // defineProperty: an own "__proto__" key, as JSON.parse makes it, not a prototype change.
        const added = this.rng.pick(["extra", "__proto__", "constructor", "id", "agent_id", "data", "delay", "since_seq"]);
        Object.defineProperty(target, added, { value: this.randomValue(0), enumerable: true, writable: true, configurable: true });
      }
    }
    return out;
  }

  private mutateString(text: string): string {
    const chars = [...text];
    const at = this.rng.int(0, Math.max(0, chars.length - 1));
    const op = this.rng.int(0, 2);
    const letter = String.fromCharCode(this.rng.int(0x61, 0x7a));
    if (op === 0) chars.splice(at, 1);
    else if (op === 1) chars.splice(at, 0, letter);
    else chars[at] = letter;
    return chars.join("");
  }

  private randomValue(depth: number): unknown {
    const kind = this.rng.int(0, depth > 2 ? 5 : 7);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return this.rng.chance(0.5);
      case 2:
        return this.rng.pick([0, -1, 1.5, 2 ** 53 + 1, -(2 ** 31), 1e308, Number.MIN_VALUE]);
      case 3:
      case 4:
        return this.rng.pick(NASTY);
      case 5:
        return this.rng.int(0, 1e6);
      case 6:
        return Array.from({ length: this.rng.int(0, 4) }, () => this.randomValue(depth + 1));
      default:
        return Object.fromEntries(Array.from({ length: this.rng.int(0, 4) }, (_, i) => [`k${i}`, this.randomValue(depth + 1)]));
    }
  }

  /** Byte-level damage: flips, inserts (NUL, 0xFF, quotes, braces) and deletions. */
  private mutateBytes(line: Buffer): Buffer {
    const bytes = [...line];
    const edits = this.rng.int(1, 4);
    for (let i = 0; i < edits; i++) {
      const at = this.rng.int(0, Math.max(0, bytes.length - 1));
      const op = this.rng.int(0, 2);
      const value = this.rng.pick([0x00, 0xff, 0xc3, 0x80, 0x22, 0x7b, 0x7d, 0x5b, 0x5c, 0x2c, 0x3a, this.rng.int(0x20, 0x7e)]);
      if (op === 0) bytes.splice(at, 1);
      else if (op === 1) bytes.splice(at, 0, value);
      else bytes[at] = value;
    }
    return Buffer.from(bytes.filter((b) => b !== 0x0a));
  }
}

/** Whether the daemon answers this line: it skips lines that are blank once decoded (SPEC: one reply per request line). */
function needsReply(line: Buffer): boolean {
  let text = line.toString("utf8");
  if (text.endsWith("\r")) text = text.slice(0, -1);
  return text.trim() !== "";
}

function preview(line: Buffer): string {
  const text = line.toString("utf8");
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…(${line.length} bytes)` : text);
}

function parse(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

function open(socketPath: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    socket.once("connect", () => {
      socket.off("error", reject);
      socket.on("error", () => undefined);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** A raw connection that splits replies from pushes and counts them. */
class Conn {
  private partial = "";
  private readonly replies: string[] = [];
  private consumed = 0;
  private pushes = 0;
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      const parts = (this.partial + chunk).split("\n");
      this.partial = parts.pop()!;
      for (const line of parts) {
        // Pushes (subscriptions made by fuzzed requests) have `subscription` and no `ok`.
        const message = line.includes('"subscription"') ? parse(line) : null;
        if (message !== null && typeof message.subscription === "string" && !("ok" in message)) this.pushes++;
        else this.replies.push(line);
      }
      this.wake();
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
  }

  static async open(socketPath: string): Promise<Conn> {
    return new Conn(await open(socketPath));
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed || this.socket.destroyed) return resolve();
      this.socket.write(bytes, () => resolve());
    });
  }

  received(): number {
    return this.replies.length - this.consumed;
  }

  takePushes(): number {
    const n = this.pushes;
    this.pushes = 0;
    return n;
  }

  /** The next `count` replies, or null when they do not all arrive in time. */
  async take(count: number, timeoutMs: number): Promise<string[] | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length - this.consumed < count) {
      if (this.closed || Date.now() > deadline) return null;
      await this.wait(deadline - Date.now());
    }
    const out = this.replies.slice(this.consumed, this.consumed + count);
    this.consumed += count;
    return out;
  }

  async waitClosed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await this.wait(deadline - Date.now());
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(1, ms));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
