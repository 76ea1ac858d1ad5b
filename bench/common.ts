/**
 * What every benchmark shares: the daemon (or echo server) as a child
 * process, readiness and clean-stop checks, a lean NDJSON client
 * connection, statistics and table formatting.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { fileURLToPath } from "node:url";

export const DAEMON_MAIN = fileURLToPath(new URL("../daemon/main.js", import.meta.url));

const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 15_000;

// ---------------------------------------------------------------- child processes

export interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<string>;
  stderr(): string;
}

export function startChild(name: string, args: string[]): Child {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stdout.resume();
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => {
    if (stderr.length < 64 * 1024) stderr += text;
  });
  const exited = new Promise<string>((resolve) => {
    child.on("exit", (code, signal) => resolve(signal === null ? `exit ${code}` : `signal ${signal}`));
    child.on("error", (err) => resolve(`spawn error: ${err.message}`));
  });
  return { name, process: child, exited, stderr: () => stderr };
}

/** The daemon on `home`, under `node --cpu-prof` when `cpuProfDir` is set. */
export function startDaemon(home: string, cpuProfDir: string | undefined, name = "daemon"): Child {
  const profArgs = cpuProfDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", cpuProfDir];
  return startChild(name, [...profArgs, DAEMON_MAIN, "--home", home]);
}

/** Polls every `intervalMs` until the server answers a `system:health` request. */
export async function waitReady(child: Child, path: string, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const ended: { how: string | null } = { how: null };
  void child.exited.then((how) => (ended.how = how));
  for (;;) {
    if (ended.how !== null) throw new Error(`${child.name} ended before answering (${ended.how}): ${child.stderr().trim()}`);
    if (await answersHealth(path)) return;
    if (Date.now() > deadline) throw new Error(`${child.name} did not answer system:health within ${READY_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function answersHealth(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    let buffered = "";
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1_000);
    socket.setEncoding("utf8");
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write(`{"event":"system:health","id":0}\n`));
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf("\n");
      if (nl === -1) return;
      try {
        done((JSON.parse(buffered.slice(0, nl)) as { ok?: unknown }).ok === true);
      } catch {
        done(false);
      }
    });
  });
}

/** SIGTERM, then how the process ended ("exit 0" when clean). */
export async function stopChild(child: Child): Promise<string> {
  child.process.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve("timeout"), STOP_TIMEOUT_MS)));
  const how = await Promise.race([child.exited, timeout]);
  clearTimeout(timer);
  if (how === "timeout") {
    child.process.kill("SIGKILL");
    return `did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM (killed)`;
  }
  if (how !== "exit 0" && child.stderr().trim() !== "") return `${how}: ${child.stderr().trim()}`;
  return how;
}

/** CPU time of every thread of `pid` so far, in ns (Linux); null elsewhere. */
export function processCpuNs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    let total = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    }
    return Number.isFinite(total) ? total : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- a raw NDJSON connection

/**
 * A client connection with a line splitter and nothing else: `onLines`
 * gets every complete line of one chunk together with the time the chunk
 * arrived (performance.now()), so timing costs one clock reading per chunk.
 */
export class LineConnection {
  /** What arrived after the last line break, in pieces: a reply of many megabytes is joined once, when its line ends. */
  private partial: string[] = [];
  private failure: ((err: Error) => void) | null = null;
  onLines: (lines: string[], now: number) => void = () => undefined;

  private constructor(readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      const now = performance.now();
      // Only the new chunk is searched: searching (and so flattening) the whole buffer per chunk was quadratic,
      // minutes per composition:list reply of 100 000 patterns.
      const last = chunk.lastIndexOf("\n");
      if (last === -1) {
        this.partial.push(chunk);
        return;
      }
      this.partial.push(chunk.slice(0, last));
      const lines = this.partial.join("").split("\n");
      this.partial = [chunk.slice(last + 1)];
      this.onLines(lines, now);
    });
    socket.on("error", (err) => this.failure?.(err));
    socket.on("close", () => this.failure?.(new Error("connection closed during the run")));
  }

  static connect(path: string): Promise<LineConnection> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new LineConnection(socket));
      });
    });
  }

  /** Called when the connection errs or closes before close() (the run cannot finish). */
  onFailure(callback: ((err: Error) => void) | null): void {
    this.failure = callback;
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** Sends one request and resolves with its parsed reply (no other traffic may be outstanding). */
  request(line: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const previous = this.onLines;
      this.onFailure(reject);
      this.onLines = (lines) => {
        this.onLines = previous;
        this.onFailure(null);
        try {
          resolve(JSON.parse(lines[0]!) as Reply);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      };
      this.write(line);
    });
  }

  close(): Promise<void> {
    this.failure = null;
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once("close", () => resolve());
      this.socket.end();
    });
  }
}

export interface Reply {
  event?: unknown;
  id?: unknown;
  ok?: unknown;
  data?: Record<string, unknown>;
  error?: unknown;
}

// ---------------------------------------------------------------- statistics

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? NaN;
}

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function thousands(value: number): string {
  return Math.round(value)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, " ");
}

/** A plain-text table: the first `leftColumns` columns left-aligned, the rest right-aligned. */
export function table(header: string[], rows: string[][], leftColumns = 1): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i < leftColumns ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

export interface Target {
  name: string;
  value: number;
  /** The figure must be ≥ min, or ≤ max. */
  min?: number;
  max?: number;
  met: boolean;
}

export function atLeast(name: string, value: number, min: number): Target {
  return { name, value, min, met: value >= min };
}

export function atMost(name: string, value: number, max: number): Target {
  return { name, value, max, met: value <= max };
}

// ---------------------------------------------------------------- pipelined requests

/**
 * Sends requests `first .. first+count-1` on one connection, keeping up to
 * `depth` outstanding; replies come in request order, so reply j answers
 * request first+j. `make(k)` builds request k's line; `check(line, k, now)`
 * validates its reply (throwing fails the run). Send times (performance.now())
 * go to `sendTimes[k]`: every request of one write shares one clock reading.
 */
export function pipeline(
  conn: LineConnection,
  first: number,
  count: number,
  depth: number,
  sendTimes: Float64Array,
  make: (k: number) => string,
  check: (line: string, k: number, now: number) => void,
): Promise<void> {
  if (count === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let sent = 0;
    let received = 0;
    const send = (out: string, from: number) => {
      const now = performance.now();
      for (let k = from; k < first + sent; k++) sendTimes[k] = now;
      conn.write(out);
    };
    const fail = (err: Error) => {
      conn.onLines = () => undefined;
      conn.onFailure(null);
      reject(err);
    };
    conn.onFailure(fail);
    conn.onLines = (lines, now) => {
      const from = first + sent;
      let out = "";
      for (const line of lines) {
        try {
          check(line, first + received, now);
        } catch (err) {
          fail(err as Error);
          return;
        }
        received++;
        if (sent < count) out += make(first + sent++);
      }
      if (out.length > 0) send(out, from);
      if (received === count) {
        conn.onLines = () => undefined;
        conn.onFailure(null);
        resolve();
      }
    };
    let out = "";
    while (sent < Math.min(depth, count)) out += make(first + sent++);
    send(out, first);
  });
}

/**
 * What to add to a performance.now() reading to get epoch ms, good to a few
 * µs: read at Date.now() ticks. Anything that delays the reads (a
 * preemption, a lazy first call) only makes a sample smaller, so the
 * largest of several samples is the best one.
 */
export function epochOffset(samples = 5): number {
  let best = -Infinity;
  for (let i = 0; i < samples; i++) {
    const start = Date.now();
    let now = Date.now();
    while (now === start) now = Date.now();
    best = Math.max(best, now - performance.now());
  }
  return best;
}
