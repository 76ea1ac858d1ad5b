/**
 * The daemon under test as a child process: spawned from
 * dist/daemon/main.js on one home, SIGKILLed and restarted on the same
 * home, stopped with SIGTERM. Every process it ran is an "incarnation"
 * with its spawn, healthy and end times, so the checks can tell which
 * daemon was alive when a schedule was due.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "../../client/index.js";
import { sleep, within } from "./ledger.js";

/** The package root: the nearest folder above this file holding package.json (works from scripts/ and dist/scripts/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("package.json not found above the soak script");
    dir = up;
  }
}

export const DAEMON_MAIN = join(packageRoot(), "dist", "daemon", "main.js");

export type EndedBy = "kill" | "startup-kill" | "stop" | "exited";

export interface Incarnation {
  pid: number;
  spawnedAt: number;
  healthyAt: number | null;
  endedAt: number | null;
  endedBy: EndedBy | null;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  /**
   * Schedules the journal marked done when this process was killed (read before the next start compacts them away):
   * the scheduler fires a schedule in the same turn as it journals it done, so these fired even when the kill took
   * their event-log records with the log's write buffer.
   */
  journaledDone?: ReadonlySet<string>;
}

interface Running {
  child: ChildProcess;
  incarnation: Incarnation;
  stderr: string;
  exited: Promise<void>;
}

const HEALTHY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;

export class DaemonRunner {
  readonly incarnations: Incarnation[] = [];
  /** Starts that failed (the process exited before answering) with their stderr. */
  readonly failedStarts: string[] = [];
  /** Daemons that exited although nobody stopped or killed them. */
  readonly unexpectedExits: string[] = [];
  readonly restartMs: number[] = [];
  private current: Running | null = null;

  /**
   * `killGroup`: a kill takes the daemon's whole process group (the git
   * processes it is running too), like a power cut would, instead of the
   * daemon alone as `kill -9 <pid>` does.
   */
  constructor(
    readonly home: string,
    private readonly log: (line: string) => void,
    private readonly killGroup = false,
  ) {
    if (!existsSync(DAEMON_MAIN)) throw new Error(`${DAEMON_MAIN} is missing: run \`npm run build\` first`);
  }

  get socketPath(): string {
    return join(this.home, "var", "run", "patternd.sock");
  }

  get storeDir(): string {
    return join(this.home, "var", "lib", "compositions");
  }

  get pid(): number | null {
    return this.current?.incarnation.pid ?? null;
  }

  get running(): boolean {
    return this.current !== null && this.current.incarnation.exit === null;
  }

  /** When the live daemon last became healthy (0 if none is). */
  get healthyAt(): number {
    return this.current?.incarnation.healthyAt ?? 0;
  }

  private spawnOne(): Running {
    const child = spawn(process.execPath, [DAEMON_MAIN, "--home", this.home], {
      cwd: this.home,
      stdio: ["ignore", "ignore", "pipe"],
      // Its own process group only when kills take the group (else it dies with this process on Ctrl-C).
      detached: this.killGroup,
      env: { ...process.env, PATTERND_HOME: "", PATTERND_SOCKET: "", PATTERND_STORE: "" },
    });
    const incarnation: Incarnation = { pid: child.pid ?? -1, spawnedAt: Date.now(), healthyAt: null, endedAt: null, endedBy: null, exit: null };
    const running: Running = { child, incarnation, stderr: "", exited: Promise.resolve() };
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      if (running.stderr.length < 64 * 1024) running.stderr += text;
    });
    running.exited = new Promise((resolve) => {
      child.once("close", (code, signal) => {
        incarnation.exit = { code, signal };
        incarnation.endedAt ??= Date.now();
        if (incarnation.endedBy === null) {
          incarnation.endedBy = "exited";
          if (incarnation.healthyAt !== null) {
            this.unexpectedExits.push(`daemon pid ${incarnation.pid} exited on its own (code ${code}, signal ${signal}): ${running.stderr.trim()}`);
            this.log(`daemon pid ${incarnation.pid} exited on its own (code ${code}, signal ${signal})`);
          }
        }
        resolve();
      });
    });
    this.incarnations.push(incarnation);
    this.current = running;
    return running;
  }

  /**
   * Spawns a daemon and waits until it answers system:health. With
   * `startupKillAfterMs`, the first process is SIGKILLed that long after its
   * spawn (whether it answers yet or not) and another one started.
   */
  async start(options: { startupKillAfterMs?: number } = {}): Promise<void> {
    const began = Date.now();
    let startupKill = options.startupKillAfterMs;
    for (let attempt = 1; ; attempt++) {
      const running = this.spawnOne();
      if (startupKill !== undefined) {
        const when = startupKill;
        startupKill = undefined;
        await within(running.exited, when);
        if (running.incarnation.exit === null) {
          await this.killRunning(running, "startup-kill");
          this.log(`  killed pid ${running.incarnation.pid} ${when} ms into its start-up`);
          continue;
        }
      }
      const healthy = await this.waitHealthy(running);
      if (healthy) {
        running.incarnation.healthyAt = Date.now();
        if (this.incarnations.length > 1) this.restartMs.push(running.incarnation.healthyAt - began);
        return;
      }
      const why = `start attempt ${attempt} (pid ${running.incarnation.pid}) ended before answering: exit ${JSON.stringify(running.incarnation.exit)}; stderr: ${running.stderr.trim().split("\n")[0] || "(empty)"}`;
      this.failedStarts.push(why);
      this.log(`  ${why}`);
      if (attempt >= 5) throw new Error(`the daemon did not start after ${attempt} attempts: ${why}`);
      await sleep(200);
    }
  }

  private async waitHealthy(running: Running): Promise<boolean> {
    const deadline = Date.now() + HEALTHY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (running.incarnation.exit !== null) return false;
      try {
        const client = await connect({ socketPath: this.socketPath, timeoutMs: 2_000 });
        try {
          const health = await client.request<{ status?: string; pid?: number }>("system:health");
          if (health.status === "ok" && health.pid === running.incarnation.pid) return true;
        } finally {
          await client.close();
        }
      } catch {
        // not listening yet (or still the old socket file)
      }
      await sleep(20);
    }
    await this.killRunning(running, "kill");
    throw new Error(`daemon pid ${running.incarnation.pid} did not answer system:health within ${HEALTHY_TIMEOUT_MS} ms`);
  }

  private async killRunning(running: Running, endedBy: EndedBy): Promise<void> {
    if (running.incarnation.exit === null) {
      running.incarnation.endedAt = Date.now();
      running.incarnation.endedBy = endedBy;
      if (this.killGroup) {
        try {
          process.kill(-running.incarnation.pid, "SIGKILL");
        } catch {
          running.child.kill("SIGKILL");
        }
      } else {
        running.child.kill("SIGKILL");
      }
    }
    await running.exited;
    running.incarnation.journaledDone = await this.journaledDone();
  }

  private async journaledDone(): Promise<Set<string>> {
    const done = new Set<string>();
    const text = await readFile(join(this.home, "var", "lib", "schedule.ndjson"), "utf8").catch(() => "");
    for (const line of text.split("\n")) {
      if (!line.includes('"done"')) continue;
      try {
        const record = JSON.parse(line) as { op?: unknown; schedule_id?: unknown };
        if (record.op === "done" && typeof record.schedule_id === "string") done.add(record.schedule_id);
      } catch {
        // a torn last line: the journal's own reader skips it too
      }
    }
    return done;
  }

  /** SIGKILL: the process only, as `kill -9 <pid>` does (git children it started run on), or its group with `killGroup`. */
  async kill(): Promise<void> {
    if (this.current !== null) await this.killRunning(this.current, "kill");
  }

  /** SIGTERM and wait; returns the exit status (code 0 for a clean stop). */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const running = this.current;
    if (running === null || running.incarnation.exit !== null) {
      return { code: running?.incarnation.exit?.code ?? null, signal: running?.incarnation.exit?.signal ?? null, ms: 0 };
    }
    const began = Date.now();
    running.incarnation.endedBy = "stop";
    running.child.kill("SIGTERM");
    if ((await within(running.exited, STOP_TIMEOUT_MS)) === "timeout") {
      await this.killRunning(running, "kill");
      return { code: null, signal: "SIGKILL", ms: Date.now() - began };
    }
    const exit = exitOf(running);
    return { code: exit?.code ?? null, signal: exit?.signal ?? null, ms: Date.now() - began };
  }

  /** Whatever is still running is killed (the end of a run, or after a failure). */
  async dispose(): Promise<void> {
    if (this.current !== null && this.current.incarnation.exit === null) await this.killRunning(this.current, "kill");
  }

  stderr(): string {
    return this.current?.stderr ?? "";
  }

  /** Resident set size of the live daemon in KiB (Linux /proc), or null. */
  rssKiB(): number | null {
    const pid = this.pid;
    if (pid === null || !this.running) return null;
    try {
      const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      return match === null ? null : Number(match[1]);
    } catch {
      return null;
    }
  }
}

/** Read through a function: the compiler would otherwise keep the narrowing from before the await. */
function exitOf(running: Running): Incarnation["exit"] {
  return running.incarnation.exit;
}
