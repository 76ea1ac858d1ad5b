/**
 * The MCP bridge's cost: the same read made as an MCP tool call and as a
 * daemon event over the socket, side by side against one daemon in a
 * temporary home. The MCP paths are the official client SDK
 * (@modelcontextprotocol/client) to three `pat mcp --no-start` processes:
 * over stdio in the 2026-07-28 era, over stdio with the 2025 initialize
 * handshake, and over Streamable HTTP in the 2026-07-28 era. Each sends the
 * event to the daemon on its own socket connection; the socket path is the
 * plain client (client/client.ts). Calls are sequential (each reply awaited
 * and checked) and interleaved, one call of each path in turn, the first
 * path rotating, so all see the same machine load. Per scenario: `warmup`
 * calls of each path, then `calls` measured ones.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { Client as McpClient, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { Client } from "../client/client.js";
import { percentile, processCpuNs, round, startChild, startDaemon, stopChild, table, waitReady, type Child } from "./common.js";

export interface McpBenchOptions {
  /** Measured calls per scenario and path. */
  calls: number;
  /** Calls per scenario and path before measuring. */
  warmup: number;
  daemonCpuProfDir?: string | undefined;
  progress?: (line: string) => void;
}

export interface McpPathStats {
  p50_us: number;
  p99_us: number;
  max_us: number;
}

export interface McpBridgeStats extends McpPathStats {
  /** Which bridge: transport and protocol version. */
  path: string;
  /** This path's p50 ÷ the socket's p50, and the same for p99. */
  p50_ratio: number;
  p99_ratio: number;
  /** CPU time of that `pat mcp` process per measured call (Linux; null elsewhere). */
  bridge_cpu_us_per_call: number | null;
}

export interface McpScenarioResult {
  name: string;
  tool: string;
  event: string;
  socket: McpPathStats;
  bridges: McpBridgeStats[];
}

export interface McpBenchResult {
  calls: number;
  warmup: number;
  /** Per bridge: spawning `pat mcp` to a client connected (initialize or discover done). */
  bridges: { path: string; start_ms: number; exit: string }[];
  scenarios: McpScenarioResult[];
  daemon_exit: string;
  clean: boolean;
  profiled: boolean;
}

const PAT = fileURLToPath(new URL("../client/cli/pat.js", import.meta.url));
const STATE_KEY = "bench.mcp.run";
const STATE_VALUE = { phase: "scoring", round: 3, agents: ["a1", "a2", "a3"] };
const PATTERN = "tournament";
/** The SDK client sends stdin EOF, waits this long, then SIGTERM: a bridge gone sooner ended on stdin close. */
const SDK_CLOSE_GRACE_MS = 2_000;

interface Scenario {
  name: string;
  tool: string;
  event: string;
  args: Record<string, unknown>;
  /** Throws unless `data` (the daemon's reply data, or the tool's structuredContent) is the right answer. */
  check(data: Record<string, unknown> | undefined): void;
}

const SCENARIOS: Scenario[] = [
  {
    name: "state: one key",
    tool: "state_get",
    event: "state:get",
    args: { key: STATE_KEY },
    check: (data) => {
      if (!isDeepStrictEqual(data?.value, STATE_VALUE)) throw new Error(`state:get ${STATE_KEY}: unexpected answer ${JSON.stringify(data).slice(0, 300)}`);
    },
  },
  {
    name: `pattern: ${PATTERN}`,
    tool: "composition_get",
    event: "composition:get",
    args: { name: PATTERN },
    check: (data) => {
      if (data?.name !== PATTERN || typeof data.composition !== "object" || data.composition === null) throw new Error(`composition:get ${PATTERN}: unexpected answer ${JSON.stringify(data).slice(0, 300)}`);
    },
  },
];

export async function runMcpBench(options: McpBenchOptions): Promise<McpBenchResult> {
  const progress = options.progress ?? (() => undefined);
  const base = await mkdtemp(join(tmpdir(), "patternd-bench-mcp-"));
  const home = join(base, "home");
  const socketPath = join(home, "var", "run", "patternd.sock");
  let daemon: Child | null = startDaemon(home, options.daemonCpuProfDir);
  let socket: Client | null = null;
  const bridges: Bridge[] = [];
  try {
    await waitReady(daemon, socketPath);
    socket = await Client.connect({ socketPath });
    await socket.request("state:set", { key: STATE_KEY, value: STATE_VALUE });

    progress("mcp: starting pat mcp: stdio (2026-07-28), stdio (2025-11-25), HTTP (2026-07-28)");
    bridges.push(await stdioBridge(home, MODERN), await stdioBridge(home, undefined), await httpBridge(home));

    const scenarios: McpScenarioResult[] = [];
    for (const scenario of SCENARIOS) {
      progress(`mcp: ${scenario.name}`);
      scenarios.push(await measure(scenario, socket, bridges, options));
    }

    const exits: McpBenchResult["bridges"] = [];
    for (const bridge of bridges.splice(0)) exits.push({ path: bridge.path, start_ms: bridge.startMs, exit: await bridge.close() });
    await socket.close();
    socket = null;
    const daemonExit = await stopChild(daemon);
    daemon = null;
    return {
      calls: options.calls,
      warmup: options.warmup,
      bridges: exits,
      scenarios,
      daemon_exit: daemonExit,
      clean: exits.every((bridge) => bridge.exit.startsWith("ended") || bridge.exit === "exit 0") && daemonExit === "exit 0",
      profiled: options.daemonCpuProfDir !== undefined,
    };
  } finally {
    for (const bridge of bridges) await bridge.close().catch(() => undefined);
    await socket?.close();
    daemon?.process.kill("SIGKILL");
    await rm(base, { recursive: true, force: true });
  }
}

const MODERN = "2026-07-28";

interface Bridge {
  path: string;
  client: McpClient;
  pid: number | undefined;
  startMs: number;
  /** Ends the session and the process; says how the process ended. */
  close(): Promise<string>;
}

function newClient(pin: string | undefined): McpClient {
  return new McpClient({ name: "patternd-bench", version: "1" }, pin === undefined ? {} : { versionNegotiation: { mode: { pin } } });
}

/** `pat mcp` spawned by the SDK over stdio; without `pin`, the SDK's default 2025 handshake. */
async function stdioBridge(home: string, pin: string | undefined): Promise<Bridge> {
  let stderr = "";
  const transport = new StdioClientTransport({ command: process.execPath, args: [PAT, "--home", home, "mcp", "--no-start"], stderr: "pipe" });
  transport.stderr?.on("data", (chunk: Buffer) => {
    if (stderr.length < 64 * 1024) stderr += chunk.toString("utf8");
  });
  const client = newClient(pin);
  const started = performance.now();
  await client.connect(transport);
  const startMs = round(performance.now() - started, 1);
  const pid = transport.pid ?? undefined;
  return {
    path: `stdio ${client.getNegotiatedProtocolVersion() ?? "?"}`,
    client,
    pid,
    startMs,
    async close() {
      const closing = performance.now();
      await client.close();
      const closeMs = performance.now() - closing;
      return pid !== undefined && !alive(pid) && closeMs < SDK_CLOSE_GRACE_MS
        ? `ended on stdin close (${Math.round(closeMs)} ms)`
        : `did not end on stdin close within ${SDK_CLOSE_GRACE_MS} ms${stderr.trim() === "" ? "" : `: ${stderr.trim()}`}`;
    },
  };
}

/** `pat mcp --http 127.0.0.1:0` left serving; the SDK client over Streamable HTTP in the 2026-07-28 era. */
async function httpBridge(home: string): Promise<Bridge> {
  const started = performance.now();
  const child = startChild("pat mcp --http", [PAT, "--home", home, "mcp", "--no-start", "--http", "127.0.0.1:0"]);
  let url: string | undefined;
  while ((url = /patternd MCP on (http:\/\/\S+\/mcp)/.exec(child.stderr())?.[1]) === undefined) {
    if (child.process.exitCode !== null) throw new Error(`pat mcp --http ended: ${child.stderr().trim()}`);
    if (performance.now() - started > 15_000) throw new Error(`pat mcp --http printed no URL within 15 s: ${child.stderr().trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const client = newClient(MODERN);
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return {
    path: `HTTP ${client.getNegotiatedProtocolVersion() ?? "?"}`,
    client,
    pid: child.process.pid,
    startMs: round(performance.now() - started, 1),
    async close() {
      await client.close();
      return stopChild(child);
    },
  };
}

/** Warm-up, then `calls` rounds of one call on each path (the socket and every bridge), the first path rotating. */
async function measure(scenario: Scenario, socket: Client, bridges: Bridge[], options: McpBenchOptions): Promise<McpScenarioResult> {
  const viaSocket = async () => {
    scenario.check(await socket.request<Record<string, unknown>>(scenario.event, scenario.args));
  };
  const viaBridge = (bridge: Bridge) => async () => {
    const result = await bridge.client.callTool({ name: scenario.tool, arguments: scenario.args });
    if (result.isError === true) throw new Error(`${scenario.tool} (${bridge.path}): tool error ${JSON.stringify(result.content).slice(0, 300)}`);
    scenario.check(result.structuredContent as Record<string, unknown> | undefined);
  };
  const paths = [viaSocket, ...bridges.map(viaBridge)];
  for (let k = 0; k < options.warmup; k++) for (const path of paths) await path();
  const latencies = paths.map(() => new Float64Array(options.calls));
  const cpuBefore = bridges.map((bridge) => processCpuNs(bridge.pid));
  for (let k = 0; k < options.calls; k++) {
    for (let j = 0; j < paths.length; j++) {
      const index = (k + j) % paths.length;
      const sent = performance.now();
      await paths[index]!();
      latencies[index]![k] = performance.now() - sent;
    }
  }
  const cpuAfter = bridges.map((bridge) => processCpuNs(bridge.pid));
  const [socketStats, ...bridgeStats] = latencies.map(stats);
  return {
    name: scenario.name,
    tool: scenario.tool,
    event: scenario.event,
    socket: socketStats!,
    bridges: bridges.map((bridge, index) => {
      const own = bridgeStats[index]!;
      const before = cpuBefore[index];
      const after = cpuAfter[index];
      return {
        path: bridge.path,
        ...own,
        p50_ratio: round(own.p50_us / socketStats!.p50_us, 2),
        p99_ratio: round(own.p99_us / socketStats!.p99_us, 2),
        bridge_cpu_us_per_call: before === null || after === null || before === undefined || after === undefined ? null : round((after - before) / 1000 / options.calls, 1),
      };
    }),
  };
}

function stats(latencies: Float64Array): McpPathStats {
  latencies.sort();
  return {
    p50_us: round(percentile(latencies, 0.5) * 1000, 1),
    p99_us: round(percentile(latencies, 0.99) * 1000, 1),
    max_us: round(latencies[latencies.length - 1]! * 1000, 1),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- report

export function formatMcpBench(result: McpBenchResult): string {
  const us = (value: number) => `${value.toFixed(0)} µs`;
  const rows: string[][] = [];
  for (const s of result.scenarios) {
    rows.push([s.name, `socket ${s.event}`, us(s.socket.p50_us), us(s.socket.p99_us), us(s.socket.max_us), "", "", ""]);
    for (const bridge of s.bridges) {
      rows.push([
        "",
        `${s.tool}, ${bridge.path}`,
        us(bridge.p50_us),
        us(bridge.p99_us),
        us(bridge.max_us),
        bridge.bridge_cpu_us_per_call === null ? "n/a" : `${bridge.bridge_cpu_us_per_call.toFixed(0)} µs`,
        `${bridge.p50_ratio.toFixed(1)}×`,
        `${bridge.p99_ratio.toFixed(1)}×`,
      ]);
    }
  }
  const header = ["scenario", "path", "p50", "p99", "max", "bridge CPU/call", "p50 × socket", "p99 × socket"];
  return [
    `mcp: a tool call through pat mcp (official MCP client SDK → pat mcp → daemon socket) against the same event sent over the socket ` +
      `(client/client.ts);\nsequential calls, every path in turn; per scenario and path ${result.warmup} warm-up calls, then ${result.calls} measured\n` +
      `(pat mcp spawned and connected in ${result.bridges.map((bridge) => `${bridge.start_ms.toFixed(0)} ms (${bridge.path})`).join(", ")})` +
      (result.profiled ? "\n(daemon under --cpu-prof: its figures are not representative)" : ""),
    ...table(header, rows, 2),
    "",
    `stopped: ${result.bridges.map((bridge) => `pat mcp ${bridge.path} ${bridge.exit}`).join("; ")}; daemon (SIGTERM) ${result.daemon_exit}${result.clean ? "" : "  <-- not clean"}`,
  ].join("\n");
}
