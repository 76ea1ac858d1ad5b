/**
 * Sequential request series against a daemon: each request written, its
 * whole reply awaited and checked, latency from write to reply, and the CPU
 * the daemon and its git children spent on the series.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { percentile, processCpuNs, round, type Child, type LineConnection, type Reply } from "./common.js";

export interface Series {
  label: string;
  count: number;
  wall_ms: number;
  per_s: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  daemon_cpu_ms_per_op: number | null;
  git_cpu_ms_per_op: number | null;
}

/**
 * Sends `count` requests one at a time (each reply awaited), checks each
 * (`ok`, echoed id, then `check`) and times it from write to reply.
 * `before(k)`, when given, runs ahead of request k, untimed (its daemon CPU counts).
 */
export async function sequential(
  conn: LineConnection,
  daemon: Child,
  label: string,
  count: number,
  make: (k: number) => string,
  check: (reply: Reply, k: number, bytes: number) => void,
  before?: (k: number) => Promise<void>,
): Promise<Series> {
  const latencies = new Float64Array(count);
  const pid = daemon.process.pid;
  const cpuBefore = processCpuNs(pid);
  const gitBefore = childCpuMs(pid);
  const started = performance.now();
  for (let k = 0; k < count; k++) {
    if (before !== undefined) await before(k);
    const line = make(k);
    const sent = performance.now();
    const { reply, bytes } = await requestRaw(conn, line);
    latencies[k] = performance.now() - sent;
    if (reply.ok !== true || reply.id !== k) throw new Error(`${label} #${k}: unexpected reply: ${JSON.stringify(reply).slice(0, 400)}`);
    check(reply, k, bytes);
  }
  const wallMs = performance.now() - started;
  const cpuAfter = processCpuNs(pid);
  const gitAfter = childCpuMs(pid);
  latencies.sort();
  return {
    label,
    count,
    wall_ms: Math.round(wallMs),
    per_s: round((count / wallMs) * 1000, 1),
    p50_ms: round(percentile(latencies, 0.5), 2),
    p99_ms: round(percentile(latencies, 0.99), 2),
    max_ms: round(latencies[count - 1]!, 2),
    daemon_cpu_ms_per_op: cpuBefore === null || cpuAfter === null ? null : round((cpuAfter - cpuBefore) / 1e6 / count, 2),
    git_cpu_ms_per_op: gitBefore === null || gitAfter === null ? null : round((gitAfter - gitBefore) / count, 2),
  };
}

/** One request; its parsed reply and the reply line's length (a whole line, however many chunks it took). */
export async function requestRaw(conn: LineConnection, line: string): Promise<{ reply: Reply; bytes: number }> {
  let bytes = 0;
  const previous = conn.onLines;
  const reply = await new Promise<Reply>((resolve, reject) => {
    conn.onFailure(reject);
    conn.onLines = (lines) => {
      conn.onLines = previous;
      conn.onFailure(null);
      bytes = Buffer.byteLength(lines[0]!);
      try {
        resolve(JSON.parse(lines[0]!) as Reply);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    conn.write(line);
  });
  return { reply, bytes };
}

export const COMMIT = /^[0-9a-f]{40}$/;


const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (ms) of the reaped children of `pid` (Linux, /proc/PID/stat cutime + cstime); null elsewhere. */
export function childCpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm)": state is field 3; cutime and cstime are fields 16 and 17.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS) * 1000;
  } catch {
    return null;
  }
}

