/**
 * End-to-end harness: runs the compiled daemon (dist/daemon/main.js) as a
 * real process in a fresh temporary home and talks to it over its real
 * Unix socket. No fixed sleeps: everything waits for a condition with a
 * deadline (`waitFor`).
 *
 * Usage in a test file:
 *   afterAll(cleanup);
 *   const d = await startDaemon();
 *   const client = await d.client();
 *   const raw = await d.raw();
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, RemoteError, type Client } from "../client/index.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DAEMON_MAIN = join(ROOT, "dist", "daemon", "main.js");

/** Unix socket paths are limited to ~107 bytes; the socket sits at <home>/var/run/patternd.sock. */
const SOCKET_SUFFIX = join("var", "run", "patternd.sock");
const MAX_SOCKET_PATH = 100;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export function sleepTick(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Thrown from a `waitFor` check to stop polling at once (e.g. the process being waited on has exited). */
export class GiveUp extends Error {}

/**
 * Polls `check` until it returns a truthy value (returned) or the deadline passes (throws with `what`).
 * A check that throws is retried, unless it throws GiveUp.
 */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 10): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleepTick(intervalMs);
  }
}

// ---------------------------------------------------------------- temp homes

const tempDirs: string[] = [];

/** A fresh, short temporary directory (removed by `cleanup`). */
export async function makeHome(): Promise<string> {
  let base = tmpdir();
  if (Buffer.byteLength(join(base, "pd-XXXXXX", SOCKET_SUFFIX)) > MAX_SOCKET_PATH) base = "/tmp";
  const dir = await mkdtemp(join(base, "pd-"));
  tempDirs.push(dir);
  return dir;
}

// ---------------------------------------------------------------- processes

/** A daemon process whose output is collected; it may or may not have started listening. */
export class DaemonProcess {
  private out = "";
  private err = "";
  readonly exited: Promise<Exit>;
  private exitInfo: Exit | null = null;

  constructor(
    readonly home: string,
    readonly process: ChildProcess,
  ) {
    process.stdout!.setEncoding("utf8").on("data", (chunk: string) => (this.out += chunk));
    process.stderr!.setEncoding("utf8").on("data", (chunk: string) => (this.err += chunk));
    // "close" (not "exit"): the output streams are complete by then.
    this.exited = new Promise((resolveExit) => {
      process.once("close", (code, signal) => {
        this.exitInfo = { code, signal };
        resolveExit(this.exitInfo);
      });
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  /** Everything the daemon wrote to stdout so far. */
  stdout(): string {
    return this.out;
  }

  /** Everything the daemon wrote to stderr so far. */
  stderr(): string {
    return this.err;
  }

  /** The exit status once the process has exited, else null. */
  exitStatus(): Exit | null {
    return this.exitInfo;
  }

  async waitForStdout(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    await waitFor(`stdout matching ${pattern}`, () => pattern.test(this.out), timeoutMs);
    return this.out;
  }

  async waitForStderr(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    await waitFor(`stderr matching ${pattern}`, () => pattern.test(this.err), timeoutMs);
    return this.err;
  }

  /** Sends `signal` and waits for the process to exit. */
  async signal(signal: NodeJS.Signals, timeoutMs = 10_000): Promise<Exit> {
    if (this.exitInfo !== null) return this.exitInfo;
    this.process.kill(signal);
    return this.waitExit(timeoutMs);
  }

  async waitExit(timeoutMs = 10_000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`daemon pid ${this.pid} did not exit within ${timeoutMs} ms; stderr: ${this.err}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

const processes = new Set<DaemonProcess>();

/** Spawns `node dist/daemon/main.js --home <home> ...args` without waiting for anything; `env` adds to (or overrides) the test's environment. */
export function spawnDaemon(home: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): DaemonProcess {
  if (!existsSync(DAEMON_MAIN)) throw new Error(`${DAEMON_MAIN} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [DAEMON_MAIN, "--home", home, ...args], {
    cwd: home,
    stdio: ["ignore", "pipe", "pipe"],
    // Every reply is held to its event's result schema: a schema that drifts from what a handler answers fails the test that sees it.
    env: { ...process.env, PATTERND_HOME: "", PATTERND_SOCKET: "", PATTERND_STORE: "", PATTERND_CHECK_RESULTS: process.env.PATTERND_CHECK_RESULTS ?? "1", ...env },
  });
  const proc = new DaemonProcess(home, child);
  processes.add(proc);
  void proc.exited.then(() => processes.delete(proc));
  return proc;
}

// ---------------------------------------------------------------- raw wire

/** A raw socket to the daemon: write bytes/lines, collect reply lines exactly as sent. */
export class RawConnection {
  /** Every complete line received, in order (not parsed). */
  readonly lines: string[] = [];
  private partial = "";
  private waiters: (() => void)[] = [];
  readonly closed: Promise<void>;
  private isClosed = false;
  /** Socket errors seen (EPIPE/ECONNRESET after the daemon closes are expected in some tests). */
  readonly errors: Error[] = [];
  bytesReceived = 0;

  constructor(readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.bytesReceived += Buffer.byteLength(chunk);
      const text = this.partial + chunk;
      const parts = text.split("\n");
      this.partial = parts.pop()!;
      if (parts.length > 0) {
        for (const line of parts) this.lines.push(line);
        this.wake();
      }
    });
    socket.on("error", (err) => this.errors.push(err));
    this.closed = new Promise((resolveClosed) =>
      socket.once("close", () => {
        this.isClosed = true;
        this.wake();
        resolveClosed();
      }),
    );
  }

  static open(socketPath: string): Promise<RawConnection> {
    return new Promise((resolveOpen, reject) => {
      const socket = createConnection(socketPath);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolveOpen(new RawConnection(socket));
      });
      socket.once("error", reject);
    });
  }

  get hasClosed(): boolean {
    return this.isClosed;
  }

  /** Writes raw text as is (add the newline yourself). Resolves when handed to the kernel. */
  writeRaw(text: string | Buffer): Promise<void> {
    return new Promise((resolveWrite) => {
      this.socket.write(text, () => resolveWrite());
    });
  }

  /** Writes each message as one JSON line, all in a single write. */
  send(...messages: unknown[]): Promise<void> {
    return this.writeRaw(messages.map((m) => (typeof m === "string" ? m : JSON.stringify(m)) + "\n").join(""));
  }

  /** Parsed lines received so far. */
  messages(): Record<string, unknown>[] {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Waits until at least `count` lines have arrived in total; returns them parsed. */
  async waitLines(count: number, timeoutMs = 10_000): Promise<Record<string, unknown>[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length < count) {
      if (this.isClosed) throw new Error(`connection closed after ${this.lines.length} of ${count} lines`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${count} lines; got ${this.lines.length}`);
      await new Promise<void>((resolveWait) => {
        const timer = setTimeout(resolveWait, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolveWait();
        });
      });
    }
    return this.messages().slice(0, count);
  }

  /** Sends messages and resolves with the next `messages.length` lines (the replies, if nothing else is pushed). */
  async exchange(...messages: unknown[]): Promise<Record<string, unknown>[]> {
    const start = this.lines.length;
    await this.send(...messages);
    const all = await this.waitLines(start + messages.length);
    return all.slice(start);
  }

  /** Resolves once the daemon closes the connection (or rejects after the deadline). */
  async waitClosed(timeoutMs = 10_000): Promise<void> {
    await waitFor("the connection to close", () => this.isClosed, timeoutMs);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

// ---------------------------------------------------------------- a running daemon

export interface Daemon {
  home: string;
  socketPath: string;
  pidFile: string;
  process: ChildProcess;
  proc: DaemonProcess;
  pid: number;
  /** A connected client of the library (closed by `cleanup`/`stop`). */
  client(options?: { agentId?: string }): Promise<Client>;
  /** A raw socket (closed by `cleanup`/`stop`). */
  raw(): Promise<RawConnection>;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<Exit>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<Exit>;
  /** Resident set size of the daemon in KiB (from /proc). */
  rssKiB(): Promise<number>;
}

const openSockets = new Set<{ close(): void }>();

export function socketPathOf(home: string): string {
  return join(home, SOCKET_SUFFIX);
}

/** One request on a throwaway connection; resolves with the raw reply, or rejects. */
async function probeHealth(socketPath: string): Promise<Record<string, unknown>> {
  const raw = await RawConnection.open(socketPath);
  try {
    const [reply] = await raw.exchange({ event: "system:health", id: "probe" });
    return reply!;
  } finally {
    raw.destroy();
  }
}

/** Waits until the daemon at `socketPath` answers system:health, failing fast if `proc` exits. */
export async function waitUntilHealthy(proc: DaemonProcess, socketPath: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(
    `daemon pid ${proc.pid} to answer system:health on ${socketPath}`,
    async () => {
      const exit = proc.exitStatus();
      if (exit !== null) {
        throw new GiveUp(`daemon exited (code ${exit.code}, signal ${exit.signal}) before answering; stderr:\n${proc.stderr()}`);
      }
      const reply = await probeHealth(socketPath);
      return reply.ok === true;
    },
    timeoutMs,
    20,
  );
}

/** Starts a daemon in `home` (a fresh temp home when omitted) and waits until it answers system:health. */
export async function startDaemon(options: { home?: string; args?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<Daemon> {
  const home = options.home ?? (await makeHome());
  const socketPath = socketPathOf(home);
  const proc = spawnDaemon(home, options.args, options.env);
  await waitUntilHealthy(proc, socketPath);
  const mine = new Set<{ close(): void }>();
  const track = (handle: { close(): void }) => {
    mine.add(handle);
    openSockets.add(handle);
  };
  const closeMine = () => {
    for (const handle of mine) {
      handle.close();
      openSockets.delete(handle);
    }
    mine.clear();
  };
  return {
    home,
    socketPath,
    pidFile: join(home, "var", "run", "patternd.pid"),
    process: proc.process,
    proc,
    pid: proc.pid,
    async client(clientOptions = {}) {
      const client = await connect({ socketPath, agentId: clientOptions.agentId, timeoutMs: 20_000 });
      track({ close: () => void client.close() });
      return client;
    },
    async raw() {
      const raw = await RawConnection.open(socketPath);
      track({ close: () => raw.destroy() });
      return raw;
    },
    stdout: () => proc.stdout(),
    stderr: () => proc.stderr(),
    async stop() {
      closeMine();
      return proc.signal("SIGTERM");
    },
    async kill() {
      closeMine();
      return proc.signal("SIGKILL");
    },
    async rssKiB() {
      const status = await readFile(`/proc/${proc.pid}/status`, "utf8");
      const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
      if (match === null) throw new Error("no VmRSS in /proc status");
      return Number(match[1]);
    },
  };
}

/** Kills every daemon still running, closes sockets and removes temp homes. Call from afterAll. */
export async function cleanup(): Promise<void> {
  for (const handle of openSockets) handle.close();
  openSockets.clear();
  await Promise.all([...processes].map((proc) => proc.signal("SIGKILL").catch(() => undefined)));
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Reads a file of JSON lines (skipping a torn last line). */
export async function readJsonLines(path: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, "utf8");
  const records: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      records.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line still being written
    }
  }
  return records;
}

/** The error a request was answered with (a request that succeeds, or fails otherwise, fails the test). */
export async function failure(promise: Promise<unknown>): Promise<RemoteError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof RemoteError) return err;
    throw err;
  }
  throw new Error("expected the daemon to answer with an error");
}
