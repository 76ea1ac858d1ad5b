/**
 * `pat` end to end: the compiled CLI (dist/client/cli/pat.js) run as a real
 * process against a real daemon in a temporary home, over its real socket.
 * Standard output is a pipe here: pat send prints JSON, the named commands
 * text unless a test asks for --json; some tests give the CLI a terminal
 * (through script(1)). No fixed sleeps: every wait polls a
 * condition with a deadline. Self-contained on purpose (no shared harness).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PAT = join(ROOT, "dist", "client", "cli", "pat.js");

// ------------------------------------------------------------------ helpers

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The process had not exited by the time limit and was killed. */
  timedOut?: boolean;
  /** From spawn to exit. */
  ms?: number;
}

interface RunOptions {
  /** Adds `--home <home>` (default) unless null. */
  home?: string | null;
  env?: Record<string, string>;
  input?: string;
  cwd?: string;
  timeoutMs?: number;
}

/** The environment of a user who set nothing patternd-specific. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith("PATTERND_")) delete env[key];
  return { ...env, ...extra };
}

function patArgs(args: readonly string[], home: string | null): string[] {
  return home === null ? [PAT, ...args] : [PAT, ...args, "--home", home];
}

/** Runs `pat ARGS` to completion; stdout and stderr are pipes. */
function pat(args: readonly string[], options: RunOptions & { home: string | null }): Promise<Run> {
  const startedAt = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, patArgs(args, options.home), {
      cwd: options.cwd ?? ROOT,
      env: cleanEnv(options.env),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 20_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, timedOut, ms: Date.now() - startedAt });
    });
    child.stdin.end(options.input ?? "");
  });
}

/** A long-running `pat` child (watch, run) whose output is collected as it comes. */
class Background {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: readonly string[], home: string | null, cwd = ROOT) {
    this.child = spawn(process.execPath, patArgs(args, home), { cwd, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolvePromise) => this.child.once("exit", (code, signal) => resolvePromise({ code, signal })));
    backgrounds.push(this);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits for the exit, at most `timeoutMs`. */
  async exit(timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

const backgrounds: Background[] = [];

function tick(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns a truthy value, or fails after the deadline. */
async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? ` (${last.message})` : ""}`);
    }
    await tick(20);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** One request over the daemon's socket, without the CLI: does the daemon itself answer? */
function rawRequest(socketPath: string, event: string, data: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return new Promise((resolvePromise, reject) => {
    const socket = createConnection(socketPath);
    let buffer = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply to ${event}`));
    }, 5_000);
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on("connect", () => socket.write(JSON.stringify({ event, data, id: "raw-1" }) + "\n"));
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf("\n");
      if (newline === -1) return;
      clearTimeout(timer);
      socket.end();
      resolvePromise(JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>);
    });
  });
}

const homes: string[] = [];

/** A fresh, short temporary home: the socket path must stay under ~107 bytes. */
async function makeHome(): Promise<string> {
  let base = tmpdir();
  if (Buffer.byteLength(join(base, "patc-XXXXXX", "var", "run", "patternd.sock")) > 100) base = "/tmp";
  const home = await mkdtemp(join(base, "patc-"));
  homes.push(home);
  return home;
}

const paths = (home: string) => ({
  socket: join(home, "var", "run", "patternd.sock"),
  pidFile: join(home, "var", "run", "patternd.pid"),
});

function readPidFile(home: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(paths(home).pidFile, "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** A live daemon process of this suite (pids of stopped daemons may be reused by then). */
function isLiveDaemon(pid: number): boolean {
  if (pid <= 1 || !alive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("daemon/main.js");
  } catch {
    return true; // no /proc: trust the pid
  }
}

/** Daemon pids any test saw, so that none outlives the suite. */
const daemonPids = new Set<number>();

function json<T = Record<string, unknown>>(run: Run): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

interface LogRecord {
  seq: number;
  ts: string;
  event: string;
  agent_id: string | null;
  ok: boolean;
  data: unknown;
}

afterAll(async () => {
  for (const background of backgrounds) if (background.running) background.child.kill("SIGKILL");
  for (const home of homes) {
    const pid = readPidFile(home);
    if (pid !== null) daemonPids.add(pid);
  }
  const left = [...daemonPids].filter(isLiveDaemon);
  for (const pid of left) process.kill(pid, "SIGTERM");
  await waitFor("every daemon of the suite to exit", () => left.every((pid) => !alive(pid)), 8_000).catch(() => {
    for (const pid of left) if (isLiveDaemon(pid)) process.kill(pid, "SIGKILL");
  });
  await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
});

/** Is script(1) there to give the CLI a real terminal? */
const hasScript = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0;

/** Runs `pat ARGS` with stdout on a pseudo-terminal, as a person at a shell would. */
function patOnTerminal(args: readonly string[], home: string): Run {
  const command = patArgs(args, home)
    .map((word) => `'${word.replaceAll("'", `'\\''`)}'`)
    .join(" ");
  const result = spawnSync("script", ["-qec", `'${process.execPath}' ${command}`, "/dev/null"], {
    cwd: ROOT,
    env: cleanEnv(),
    encoding: "utf8",
    timeout: 20_000,
  });
  return { code: result.status, signal: result.signal, stdout: result.stdout.replaceAll("\r\n", "\n"), stderr: result.stderr };
}

// ------------------------------------------------------------------ detached daemon

describe("pat with a detached daemon (start, send, discover, help, watch, stop)", () => {
  let home: string;
  let socket: string;
  let pidFile: string;
  let pid: number;

  /** `pat ARGS --home <home>`. */
  const run = (args: readonly string[], options: RunOptions = {}) => pat(args, { ...options, home: options.home === undefined ? home : options.home });

  beforeAll(async () => {
    home = await makeHome();
    ({ socket, pidFile } = paths(home));
  });

  it("pat status before any start: exit 3, and says how to start the daemon", async () => {
    const result = await run(["status"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/not running/);
    expect(result.stderr).toContain("pat start");
    expect(result.stderr).toContain(socket);
  });

  it("pat send with no daemon: exit 3, says how to start it", async () => {
    const result = await run(["send", "system:health"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("pat start");
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("pat start: exit 0 once the daemon answers, prints its pid, writes the pid file", async () => {
    const result = await run(["start", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const started = json<{ started: boolean; pid: number; socket: string; home: string }>(result);
    pid = started.pid;
    daemonPids.add(pid);
    expect(started).toMatchObject({ started: true, socket, home });
    expect(Number.isInteger(pid) && pid !== process.pid).toBe(true);
    expect(alive(pid)).toBe(true);
    // It answers right away (start waited for it), over the real socket.
    const reply = await rawRequest(socket, "system:health");
    expect(reply).toMatchObject({ ok: true, data: { status: "ok", pid } });
    expect(existsSync(pidFile)).toBe(true);
    expect(readPidFile(home)).toBe(pid);
  });

  it("a second pat start: exit 1, naming the running pid; the first daemon keeps running", async () => {
    const result = await run(["start"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/already running/);
    expect(result.stderr).toContain(String(pid));
    expect(alive(pid)).toBe(true);
    expect(await rawRequest(socket, "system:health")).toMatchObject({ ok: true, data: { pid } });
  });

  it("pat status: exit 0 with the daemon's pid and home", async () => {
    const result = await run(["status", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(json(result)).toMatchObject({ running: true, pid, home, socket, status: "ok" });
  });

  it("pat send system:health: exit 0, JSON with status ok", async () => {
    const result = await run(["send", "system:health"]);
    expect(result.code, result.stderr).toBe(0);
    const health = json<{ status: string; pid: number; version: string; uptime_s: number }>(result);
    expect(health).toMatchObject({ status: "ok", pid });
    expect(typeof health.version).toBe("string");
    expect(typeof health.uptime_s).toBe("number");
    expect(result.stderr).toBe("");
  });

  it("--json (anywhere on the line) prints the raw data as JSON", async () => {
    for (const args of [["--json", "send", "system:health"], ["send", "system:health", "--json"]]) {
      const result = await run(args);
      expect(result.code, result.stderr).toBe(0);
      expect(json(result)).toMatchObject({ status: "ok", pid });
    }
  });

  it.skipIf(!hasScript)("on a terminal: a readable outline by default, JSON with --json", () => {
    const human = patOnTerminal(["send", "system:health"], home);
    expect(human.code, human.stdout).toBe(0);
    expect(human.stdout).toMatch(/^status: ok$/m);
    expect(human.stdout).toMatch(new RegExp(`^pid: ${pid}$`, "m"));
    expect(() => JSON.parse(human.stdout) as unknown).toThrow();
    const raw = patOnTerminal(["send", "system:health", "--json"], home);
    expect(raw.code, raw.stdout).toBe(0);
    expect(JSON.parse(raw.stdout)).toMatchObject({ status: "ok", pid });
    const discover = patOnTerminal(["discover", "monitor"], home);
    expect(discover.stdout).toMatch(/^monitor:subscribe +\S/m);
  });

  it("--key value pairs are typed from the schema: --limit 2 --patterns 'system:*'", async () => {
    // Make sure more than two matching records exist, so that the limit is what bounds the answer.
    for (let i = 0; i < 3; i++) expect((await run(["send", "system:health"])).code).toBe(0);
    const result = await run(["send", "monitor:get_events", "--limit", "2", "--patterns", "system:*"]);
    expect(result.code, result.stderr).toBe(0);
    const { events } = json<{ events: LogRecord[] }>(result);
    expect(events).toHaveLength(2);
    for (const record of events) expect(record.event).toMatch(/^system:[^:]+$/);
    expect(events[0]!.seq).toBeLessThan(events[1]!.seq); // newest last
    // The request went out typed: limit a number, patterns an array (the event log keeps the data sent).
    const log = json<{ events: LogRecord[] }>(await run(["send", "monitor:get_events", '{"patterns": ["monitor:get_events"], "limit": 1}']));
    expect(log.events[0]!.data).toEqual({ limit: 2, patterns: ["system:*"] });
  });

  it("pairs override the JSON object argument: '{\"limit\": 1}' --limit 3", async () => {
    const result = await run(["send", "monitor:get_events", '{"limit": 1, "patterns": ["system:*"]}', "--limit", "3"]);
    expect(result.code, result.stderr).toBe(0);
    const { events } = json<{ events: LogRecord[] }>(result);
    expect(events).toHaveLength(3);
    for (const record of events) expect(record.event).toMatch(/^system:/);
  });

  it("--from-file reads the data from a file, and pairs still override it", async () => {
    const file = join(home, "query.json");
    await writeFile(file, JSON.stringify({ patterns: ["system:health"], limit: 1 }));
    const fromFile = await run(["send", "monitor:get_events", "--from-file", file]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const one = json<{ events: LogRecord[] }>(fromFile).events;
    expect(one).toHaveLength(1);
    expect(one[0]!.event).toBe("system:health");
    const overridden = await run(["send", "monitor:get_events", "--from-file", file, "--limit", "2"]);
    expect(overridden.code, overridden.stderr).toBe(0);
    const two = json<{ events: LogRecord[] }>(overridden).events;
    expect(two).toHaveLength(2);
    expect(two.every((record) => record.event === "system:health")).toBe(true);
  });

  it("--from-file - reads the data from standard input", async () => {
    const result = await run(["send", "monitor:get_events", "--from-file", "-"], {
      input: JSON.stringify({ patterns: ["system:health"], limit: 1 }),
    });
    expect(result.code, result.stderr).toBe(0);
    const { events } = json<{ events: LogRecord[] }>(result);
    expect(events).toHaveLength(1);
    expect(events[0]!.event).toBe("system:health");
  });

  it("--from-file naming a missing file is a usage error (exit 2) with a plain message, not a crash", async () => {
    const missing = join(home, "no-such-file.json");
    const result = await run(["send", "system:health", "--from-file", missing]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(missing);
    expect(result.stderr).not.toMatch(/unexpected failure|\n\s+at /);
  });

  it.each([
    { args: ["--limit", "abc"], says: /--limit.*abc/ },
    { args: ["--limit", "1.5"], says: /--limit.*whole number/ },
    { args: ["--limit"], says: /--limit needs a value/ },
    { args: ["--__proto__.x", "1"], says: /not a usable key/ },
  ])("pat send monitor:get_events $args: usage error, exit 2, nothing sent", async ({ args, says }) => {
    const probe = { patterns: ["monitor:get_events"], limit: 1 };
    const before = json<{ events: LogRecord[] }>(await run(["send", "monitor:get_events", JSON.stringify(probe)])).events.at(-1)?.seq ?? 0;
    const result = await run(["send", "monitor:get_events", ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(says);
    expect(result.stderr).toContain("pat send EVENT"); // the usage line
    expect(result.stdout).toBe("");
    // The daemon never received a monitor:get_events from that command (only the probe came after `before`).
    const after = json<{ events: LogRecord[] }>(await run(["send", "monitor:get_events", '{"limit": 10, "patterns": ["monitor:get_events"]}'])).events;
    expect(after.filter((record) => record.seq > before)).toEqual([expect.objectContaining({ data: probe })]);
  });

  it("malformed data argument is a usage error (exit 2)", async () => {
    const notJson = await run(["send", "monitor:get_events", "{limit: 1}"]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/not JSON/);
    const notObject = await run(["send", "monitor:get_events", "[1]"]);
    expect(notObject.code).toBe(2);
    expect(notObject.stderr).toMatch(/JSON object/);
    const noEvent = await run(["send"]);
    expect(noEvent.code).toBe(2);
    expect(noEvent.stderr).toContain("pat send system:health");
  });

  it("pat send system:helth: exit 1, unknown_event with the suggestion on stderr and the error JSON on stdout", async () => {
    const result = await run(["send", "system:helth"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("unknown_event");
    expect(result.stderr).toContain("system:health");
    const { error } = json<{ error: { code: string; message: string; details: { suggestions: string[] } } }>(result);
    expect(error.code).toBe("unknown_event");
    expect(error.message).toMatch(/system:helth/);
    expect(error.details.suggestions).toContain("system:health");
  });

  it("a daemon-side validation error: exit 1, invalid_params naming the field", async () => {
    const result = await run(["send", "monitor:get_events", "--limit", "0"]);
    expect(result.code).toBe(1);
    const { error } = json<{ error: { code: string; details: { issues: { path: string }[] } } }>(result);
    expect(error.code).toBe("invalid_params");
    expect(error.details.issues.map((issue) => issue.path)).toContain("limit");
    expect(result.stderr).toMatch(/invalid_params.*limit/);
  });

  it("pat send event:emit --condition 'state.a.b == 4': exit 1, invalid_params with the object form; nothing is emitted or scheduled", async () => {
    type Failure = { error: { code: string; message: string; details: { issues: { path: string; message: string }[] } } };
    const objectForm = '{"==":[{"var":"state.a.b"},4]}';
    for (const timing of [[], ["--delay", "0.05"]]) {
      const result = await run(["send", "event:emit", "--event", "cli:notrule", "--condition", "state.a.b == 4", ...timing]);
      expect(result.code, result.stderr).toBe(1);
      const { error } = json<Failure>(result);
      expect(error.code).toBe("invalid_params");
      expect(error.details.issues.map((issue) => issue.path)).toEqual(["condition"]);
      expect(error.message).toBe(`invalid data for event:emit at "condition": a rule is a JSON Logic object ({operator: arguments}) or true/false, not text: write "state.a.b == 4" as ${objectForm}`);
      expect(result.stderr).toContain(`error [invalid_params]: invalid data for event:emit at "condition"`);
      expect(result.stderr).toContain(objectForm);
    }
    // A number typed for a rule is a constant too.
    const number = await run(["send", "event:emit", "--event", "cli:notrule", "--condition", "4"]);
    expect(number.code).toBe(1);
    expect(json<Failure>(number).error.message).toMatch(/got the number 4/);
    // The object form (and true/false) are rules.
    const object = await run(["send", "event:emit", "--event", "cli:notrule", "--condition", '{"==": [{"var": "state.a.b"}, 4]}']);
    expect(json(object)).toEqual({ emitted: false, reason: "condition_false" });
    const literal = await run(["send", "event:emit", "--event", "cli:notrule", "--condition", "true"]);
    expect(json(literal)).toMatchObject({ emitted: true });
    const scheduled = json<{ schedules: unknown[] }>(await run(["send", "event:scheduled", "--event", "cli:notrule"]));
    expect(scheduled.schedules).toEqual([]);
    const health = await run(["send", "system:health"]);
    expect(json(health)).toMatchObject({ status: "ok" });
  });

  it("pat send event:emit --at in the past: exit 1, invalid_params saying how far back and to give allow_past; --allow_past true schedules it due now", async () => {
    const at = new Date(Date.now() - 2 * 86_400_000).toISOString();
    const refused = await run(["send", "event:emit", "--event", "cli:past", "--at", at]);
    expect(refused.code).toBe(1);
    const { error } = json<{ error: { code: string; message: string } }>(refused);
    expect(error.code).toBe("invalid_params");
    expect(error.message).toBe(`invalid data for event:emit at "at": at ${at} is 2 days in the past; give a future time, or allow_past: true to fire it at once`);
    const before = Date.now();
    const allowed = await run(["send", "event:emit", "--event", "cli:past", "--at", at, "--allow_past", "true"]);
    expect(allowed.code, allowed.stderr).toBe(0);
    const reply = json<{ scheduled: boolean; schedule_id: string; fire_at: string }>(allowed);
    expect(reply.scheduled).toBe(true);
    expect(Date.parse(reply.fire_at)).toBeGreaterThanOrEqual(before);
  });

  it("pat send --help says a rule is a JSON Logic object and how pat find --where differs", async () => {
    const result = await run(["send", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("A rule (event:emit --condition, composition:discover --where) is a JSON Logic object or true/false");
    expect(result.stdout).toContain(`--condition '{"==": [{"var": "state.a.b"}, 4]}'`);
    expect(result.stdout).toContain("composition:discover --where is JSON Logic, unlike pat find --where 'path>0.7' (that one sends metadata_filter)");
  });

  it.skipIf(!hasScript)("pat help event:emit on a terminal: condition is a JSON Logic rule, allow_past is listed", () => {
    const result = patOnTerminal(["help", "event:emit"], home);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/^ {2}--condition +JSON Logic rule \(object or true\/false\) +JSON Logic rule over .* an object such as \{"!=":/m);
    expect(result.stdout).toMatch(/^ {2}--allow_past +boolean +with at: a time in the past fires at once/m);
  });

  it("pat bogus: exit 2, names the unknown command in one line (not the whole usage)", async () => {
    const result = await run(["bogus"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("pat: unknown command bogus; pat help lists the commands\n");
    expect(result.stdout).toBe("");
    const near = await run(["stauts"]);
    expect(near.code).toBe(2);
    expect(near.stderr).toMatch(/did you mean .*status/);
  });

  it("pat with no command: exit 2 with the usage; pat help / -h: exit 0 with the usage", async () => {
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/usage: pat COMMAND/);
    for (const args of [["help"], ["-h"], ["--help"]]) {
      const help = await run(args);
      expect(help.code, args.join(" ")).toBe(0);
      expect(help.stdout).toMatch(/usage: pat COMMAND/);
      expect(help.stdout).toContain("pat send EVENT");
    }
  });

  it("pat discover lists every event with its summary; pat discover monitor only that namespace", async () => {
    const all = await run(["discover", "--json"]);
    expect(all.code, all.stderr).toBe(0);
    const names = Object.values(json<{ events: Record<string, { event: string; summary: string }[]> }>(all).events)
      .flat()
      .map((e) => e.event);
    expect(names).toEqual(expect.arrayContaining(["system:health", "system:discover", "system:help", "monitor:subscribe", "monitor:get_events"]));
    const monitor = await run(["discover", "monitor", "--json"]);
    expect(monitor.code, monitor.stderr).toBe(0);
    const events = json<{ events: Record<string, { event: string; summary: string }[]> }>(monitor).events.monitor!;
    expect(events.map((e) => e.event).sort()).toEqual(["monitor:get_events", "monitor:subscribe", "monitor:unsubscribe"]);
    for (const e of events) expect(e.summary.length).toBeGreaterThan(0);
    const unknown = await run(["discover", "nosuchns", "--json"]);
    expect(unknown.code).toBe(1);
    expect(json<{ error: { code: string } }>(unknown).error.code).toBe("not_found");
  });

  it("pat help monitor:subscribe: its params schema and an example", async () => {
    const result = await run(["help", "monitor:subscribe", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const help = json<{ event: string; summary: string; params: { properties: Record<string, unknown>; required: string[] }; example: { event: string; data: { patterns: string[] } } }>(result);
    expect(help.event).toBe("monitor:subscribe");
    expect(Object.keys(help.params.properties)).toEqual(expect.arrayContaining(["patterns", "since_seq"]));
    expect(help.params.required).toContain("patterns");
    expect(help.example.event).toBe("monitor:subscribe");
    expect(help.example.data.patterns.length).toBeGreaterThan(0);
    // Neither a command nor an event: a usage error (issue 16), one line suggesting what is close.
    const misspelt = await run(["help", "monitor:subscrib"]);
    expect(misspelt.code).toBe(2);
    expect(misspelt.stderr).toContain("monitor:subscribe");
  });

  it.skipIf(!hasScript)("pat help on a terminal: params with (required) and a pasteable example line", () => {
    const result = patOnTerminal(["help", "monitor:subscribe"], home);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/^ {2}--patterns +array of string \(required\)/m);
    expect(result.stdout).toMatch(/^ {2}--since_seq +integer/m);
    expect(result.stdout).toMatch(/^ {2}pat send monitor:subscribe '\{"patterns":\[.*\]\}'$/m);
  });

  it("pat watch 'system:*' --json: one JSON line per matching push while others send; SIGINT ends it with exit 0", async () => {
    const watch = new Background(["watch", "system:*", "--json"], home);
    const pushes = () =>
      watch.stdout
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as { event: string; data: unknown; subscription: string; seq: number; ts: string });
    // The watch is ready once a send shows up in it (it prints nothing else when piped).
    await waitFor("the watch to print a system:health push", async () => {
      expect((await run(["send", "system:health"])).code).toBe(0);
      return pushes().some((push) => push.event === "system:health");
    });
    const seen = pushes().length;
    // A non-matching event, then a matching one: only the matching one may appear.
    expect((await run(["send", "monitor:get_events", '{"limit": 1}'])).code).toBe(0);
    expect((await run(["send", "system:health"])).code).toBe(0);
    await waitFor("a second system:health push", () => pushes().length > seen);
    const lines = pushes();
    for (const push of lines) {
      expect(push.event).toMatch(/^system:[^:]+$/);
      expect(typeof push.subscription).toBe("string");
      expect(Number.isInteger(push.seq)).toBe(true);
      expect(Number.isNaN(Date.parse(push.ts))).toBe(false);
      expect(push).toHaveProperty("data");
    }
    const seqs = lines.map((push) => push.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(watch.running).toBe(true);
    watch.child.kill("SIGINT");
    const exit = await watch.exit();
    expect(exit).toEqual({ code: 0, signal: null });
  });

  it("pat watch with no daemon reachable on another home: exit 3", async () => {
    const empty = await makeHome();
    const result = await run(["watch"], { home: empty });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("pat start");
  });

  it("--agent-id X is the agent_id of the records in monitor:get_events", async () => {
    const agent = `cli_agent_${process.pid}`;
    expect((await run(["send", "system:health", "--agent-id", agent])).code).toBe(0);
    const newest = json<{ events: LogRecord[] }>(await run(["send", "monitor:get_events", '{"patterns": ["system:health"], "limit": 1}'])).events;
    expect(newest).toHaveLength(1);
    expect(newest[0]!.agent_id).toBe(agent);
    // And filtering by it (a pair with an underscore, not the global) finds only that agent's records.
    const filtered = await run(["send", "monitor:get_events", "--agent_id", agent, "--limit", "50"]);
    expect(filtered.code, filtered.stderr).toBe(0);
    const records = json<{ events: LogRecord[] }>(filtered).events;
    expect(records.length).toBeGreaterThanOrEqual(1);
    expect(records.every((record) => record.agent_id === agent)).toBe(true);
    // Without --agent-id the CLI does not attribute requests to that agent.
    expect((await run(["send", "system:health"])).code).toBe(0);
    const latest = json<{ events: LogRecord[] }>(await run(["send", "monitor:get_events", '{"patterns": ["system:health"], "limit": 1}'])).events;
    expect(latest[0]!.agent_id).not.toBe(agent);
  });

  it("PATTERND_HOME is the home when --home is absent", async () => {
    const elsewhere = await makeHome();
    const result = await pat(["status", "--json"], { home: null, env: { PATTERND_HOME: home }, cwd: elsewhere });
    expect(result.code, result.stderr).toBe(0);
    expect(json(result)).toMatchObject({ running: true, pid, home });
    // And --home wins over it.
    const overridden = await pat(["status"], { home: elsewhere, env: { PATTERND_HOME: home } });
    expect(overridden.code).toBe(3);
  });

  it("--socket (or PATTERND_SOCKET) reaches the daemon whatever the home", async () => {
    const elsewhere = await makeHome();
    const viaFlag = await pat(["send", "system:health", "--socket", socket], { home: elsewhere });
    expect(viaFlag.code, viaFlag.stderr).toBe(0);
    expect(json(viaFlag)).toMatchObject({ status: "ok", pid });
    const viaEnv = await pat(["send", "system:health"], { home: null, cwd: elsewhere, env: { PATTERND_SOCKET: socket } });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(json(viaEnv)).toMatchObject({ status: "ok", pid });
  });

  it("pat restart: exit 0, a new daemon answers on the same socket, the old one is gone", async () => {
    const result = await run(["restart", "--json"], { timeoutMs: 8_000 });
    const started = json<{ started: boolean; pid: number }>({ ...result, stdout: lastJson(result.stdout) });
    expect(started.started).toBe(true);
    expect(started.pid).not.toBe(pid);
    daemonPids.add(started.pid);
    await waitFor("the old daemon process to exit", () => !alive(pid));
    const oldPid = pid;
    pid = started.pid;
    expect(await rawRequest(socket, "system:health")).toMatchObject({ ok: true, data: { pid } });
    expect(readPidFile(home)).toBe(pid);
    expect(alive(oldPid)).toBe(false);
    // Done means done: the command returns once the new daemon answers.
    expect(result.timedOut, `pat restart printed its result but was still running after 8 s`).toBe(false);
    expect(result.code, result.stderr).toBe(0);
  });

  it("pat stop: exit 0; then no socket, no pid file and no daemon process", async () => {
    const result = await run(["stop", "--json"], { timeoutMs: 6_000 });
    expect(json(result)).toMatchObject({ stopped: true, pid });
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
    expect(alive(pid)).toBe(false);
    // Done means done: the command returns once the daemon is gone.
    expect(result.timedOut, `pat stop printed its result but was still running after 6 s`).toBe(false);
    expect(result.code, result.stderr).toBe(0);
  });

  it("pat stop again: exit 3, not running", async () => {
    const result = await run(["stop"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/not running/);
    const send = await run(["send", "system:health"]);
    expect(send.code).toBe(3);
  });
});

/** The last top-level JSON object in a stream of pretty-printed objects (restart prints stop's, then start's). */
function lastJson(text: string): string {
  const start = text.lastIndexOf("\n{");
  return start === -1 ? text : text.slice(start + 1);
}

// ------------------------------------------------------------------ foreground daemon

describe("pat run (the daemon in the foreground)", () => {
  it("prints the socket and what to type next, answers, and stops cleanly on SIGTERM (exit 0, no socket, no pid file)", async () => {
    const home = await makeHome();
    const { socket, pidFile } = paths(home);
    const daemon = new Background(["run"], home, home);
    await waitFor("pat run to print its banner", () => daemon.stdout.includes(socket) || !daemon.running);
    expect(daemon.running, daemon.stderr).toBe(true);
    expect(daemon.stdout).toContain(socket);
    expect(daemon.stdout).toMatch(/pat send system:health/);
    expect(daemon.stdout).toMatch(/pat stop/);
    const health = await waitFor("the daemon to answer", () => rawRequest(socket, "system:health"));
    expect(health).toMatchObject({ ok: true, data: { status: "ok" } });
    const daemonPid = (health.data as { pid: number }).pid;
    daemonPids.add(daemonPid);
    // pat run is the daemon itself (no child to orphan): issue 16.
    expect(daemonPid).toBe(daemon.child.pid);
    // The CLI reaches it too.
    const viaCli = await pat(["send", "system:health"], { home });
    expect(viaCli.code, viaCli.stderr).toBe(0);
    expect(existsSync(pidFile)).toBe(true);

    daemon.child.kill("SIGTERM");
    const exit = await daemon.exit();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
    expect(alive(daemonPid)).toBe(false);
  });

  it("started with --home from another directory, the commands it suggests reach this daemon", async () => {
    const home = await makeHome();
    const cwd = await makeHome(); // where the user typed `pat run --home ...`
    const { socket } = paths(home);
    const daemon = new Background(["run"], home, cwd);
    try {
      await waitFor("the daemon to answer", () => rawRequest(socket, "system:health"));
      const daemonPid = readPidFile(home);
      if (daemonPid !== null) daemonPids.add(daemonPid);
      // The banner is written once the daemon listens: it may arrive just after the first answer.
      const suggested = await waitFor("the banner's suggested command", () => daemon.stdout.split("\n").find((line) => /pat send system:health/.test(line)));
      // Type it as shown (minus the comment), from the directory the banner speaks of.
      const words = suggested.replace(/#.*$/, "").trim().split(/\s+/);
      const args = words.slice(words.indexOf("pat") + 1);
      const result = await pat(args, { home: null, cwd });
      expect(result.code, `${suggested} from ${cwd}: ${result.stderr}`).toBe(0);
    } finally {
      daemon.child.kill("SIGTERM");
      await daemon.exit();
    }
  });
});

describe("the pat executable", () => {
  it("is executable as built, so `npx pat` and the package's bin work without `node`", () => {
    expect(statSync(PAT).mode & 0o111).toBe(0o111);
    const result = spawnSync(PAT, ["--help"], { encoding: "utf8" });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("usage: pat");
  });
});
