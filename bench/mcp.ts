/**
 * The MCP bridge's cost: the same read made as an MCP tool call and as a
 * daemon event over the socket, side by side against one daemon in a
 * temporary home. The MCP path is the official client SDK
 * (@modelcontextprotocol/client) over stdio to `pat mcp --no-start`, which
 * sends the event to the daemon on its own socket connection; the socket
 * path is the plain client (client/client.ts). Calls are sequential (each
 * reply awaited and checked) and interleaved, one call of each path in
 * turn, alternating which goes first, so both see the same machine load.
 * Per scenario: `warmup` calls of each path, then `calls` measured ones.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { Client as McpClient } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { Client } from "../client/client.js";
import { percentile, processCpuNs, round, startDaemon, stopChild, table, waitReady, type Child } from "./common.js";

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

export interface McpScenarioResult {
  name: string;
  tool: string;
  event: string;
  socket: McpPathStats;
  mcp: McpPathStats;
  /** MCP p50 ÷ socket p50, and the same for p99. */
  p50_ratio: number;
  p99_ratio: number;
  /** CPU time of the `pat mcp` process per measured MCP call (Linux; null elsewhere). */
  bridge_cpu_us_per_call: number | null;
}

export interface McpBenchResult {
  calls: number;
  warmup: number;
  /** The protocol version the SDK client and the bridge agreed on. */
  protocol_version: string | undefined;
  /** Spawning `pat mcp` to the end of the MCP initialize handshake. */
  bridge_start_ms: number;
  scenarios: McpScenarioResult[];
  exits: { bridge: string; daemon: string };
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
  let transport: StdioClientTransport | null = null;
  try {
    await waitReady(daemon, socketPath);
    socket = await Client.connect({ socketPath });
    await socket.request("state:set", { key: STATE_KEY, value: STATE_VALUE });

    progress("mcp: starting pat mcp (stdio)");
    let bridgeStderr = "";
    transport = new StdioClientTransport({ command: process.execPath, args: [PAT, "--home", home, "mcp", "--no-start"], stderr: "pipe" });
    transport.stderr?.on("data", (chunk: Buffer) => {
      if (bridgeStderr.length < 64 * 1024) bridgeStderr += chunk.toString("utf8");
    });
    const mcp = new McpClient({ name: "patternd-bench", version: "1" });
    const started = performance.now();
    await mcp.connect(transport);
    const bridgeStartMs = round(performance.now() - started, 1);
    const bridgePid = transport.pid ?? undefined;
    const protocolVersion = mcp.getNegotiatedProtocolVersion();

    const scenarios: McpScenarioResult[] = [];
    for (const scenario of SCENARIOS) {
      progress(`mcp: ${scenario.name}`);
      scenarios.push(await measure(scenario, socket, mcp, bridgePid, options));
    }

    const closing = performance.now();
    await mcp.close();
    const closeMs = performance.now() - closing;
    const bridgeGone = bridgePid !== undefined && !alive(bridgePid);
    const bridgeExit =
      bridgeGone && closeMs < SDK_CLOSE_GRACE_MS
        ? `ended on stdin close (${Math.round(closeMs)} ms)`
        : `did not end on stdin close within ${SDK_CLOSE_GRACE_MS} ms${bridgeStderr.trim() === "" ? "" : `: ${bridgeStderr.trim()}`}`;
    transport = null;
    await socket.close();
    socket = null;
    const daemonExit = await stopChild(daemon);
    daemon = null;
    return {
      calls: options.calls,
      warmup: options.warmup,
      protocol_version: protocolVersion,
      bridge_start_ms: bridgeStartMs,
      scenarios,
      exits: { bridge: bridgeExit, daemon: daemonExit },
      clean: bridgeExit.startsWith("ended") && daemonExit === "exit 0",
      profiled: options.daemonCpuProfDir !== undefined,
    };
  } finally {
    await transport?.close();
    await socket?.close();
    daemon?.process.kill("SIGKILL");
    await rm(base, { recursive: true, force: true });
  }
}

/** Warm-up, then `calls` interleaved pairs: socket and MCP in turn, alternating which goes first. */
async function measure(scenario: Scenario, socket: Client, mcp: McpClient, bridgePid: number | undefined, options: McpBenchOptions): Promise<McpScenarioResult> {
  const viaSocket = async () => {
    scenario.check(await socket.request<Record<string, unknown>>(scenario.event, scenario.args));
  };
  const viaMcp = async () => {
    const result = await mcp.callTool({ name: scenario.tool, arguments: scenario.args });
    if (result.isError === true) throw new Error(`${scenario.tool}: tool error ${JSON.stringify(result.content).slice(0, 300)}`);
    scenario.check(result.structuredContent as Record<string, unknown> | undefined);
  };
  for (let k = 0; k < options.warmup; k++) {
    await viaSocket();
    await viaMcp();
  }
  const latencies = { socket: new Float64Array(options.calls), mcp: new Float64Array(options.calls) };
  const cpuBefore = processCpuNs(bridgePid);
  for (let k = 0; k < options.calls; k++) {
    for (const path of k % 2 === 0 ? (["socket", "mcp"] as const) : (["mcp", "socket"] as const)) {
      const sent = performance.now();
      await (path === "socket" ? viaSocket() : viaMcp());
      latencies[path][k] = performance.now() - sent;
    }
  }
  const cpuAfter = processCpuNs(bridgePid);
  const socketStats = stats(latencies.socket);
  const mcpStats = stats(latencies.mcp);
  return {
    name: scenario.name,
    tool: scenario.tool,
    event: scenario.event,
    socket: socketStats,
    mcp: mcpStats,
    p50_ratio: round(mcpStats.p50_us / socketStats.p50_us, 2),
    p99_ratio: round(mcpStats.p99_us / socketStats.p99_us, 2),
    bridge_cpu_us_per_call: cpuBefore === null || cpuAfter === null ? null : round((cpuAfter - cpuBefore) / 1000 / options.calls, 1),
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
    rows.push([
      "",
      `MCP tool ${s.tool}`,
      us(s.mcp.p50_us),
      us(s.mcp.p99_us),
      us(s.mcp.max_us),
      s.bridge_cpu_us_per_call === null ? "n/a" : `${s.bridge_cpu_us_per_call.toFixed(0)} µs`,
      `${s.p50_ratio.toFixed(1)}×`,
      `${s.p99_ratio.toFixed(1)}×`,
    ]);
  }
  const header = ["scenario", "path", "p50", "p99", "max", "bridge CPU/call", "p50 × socket", "p99 × socket"];
  return [
    `mcp: a tool call through the bridge (official MCP client SDK → stdio → pat mcp → daemon socket) against the same event sent ` +
      `over the socket\n(client/client.ts); sequential calls, the two paths interleaved; per scenario and path ${result.warmup} warm-up calls, then ` +
      `${result.calls} measured\n(protocol ${result.protocol_version ?? "unknown"}; pat mcp spawned and initialized in ${result.bridge_start_ms.toFixed(0)} ms)` +
      (result.profiled ? "\n(daemon under --cpu-prof: its figures are not representative)" : ""),
    ...table(header, rows, 2),
    "",
    `stopped: bridge ${result.exits.bridge}; daemon (SIGTERM) ${result.exits.daemon}${result.clean ? "" : "  <-- not clean"}`,
  ].join("\n");
}
