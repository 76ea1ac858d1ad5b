/**
 * The official MCP client SDK driving `pat mcp`, the way an MCP host does:
 * over stdio (the SDK spawns the compiled pat with --home) or over
 * Streamable HTTP (pat left running with --http, its URL read from stderr).
 * Tool results are read as a model reads them: structuredContent on
 * success, isError with `code: message` text on failure.
 */
import type { ChildProcess } from "node:child_process";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { expect } from "vitest";
import { ROOT, type DaemonProcess } from "./harness.js";
import { PAT, spawnPat } from "./pat-process.js";

/** "modern": the 2026-07-28 era (pinned); "legacy": the SDK's default 2025 initialize handshake. */
export type Era = "modern" | "legacy";

export const MODERN = "2026-07-28";

export function newClient(era: Era, name = "e2e-host"): Client {
  return new Client({ name, version: "1.0.0" }, era === "modern" ? { versionNegotiation: { mode: { pin: MODERN } } } : {});
}

export interface StdioSession {
  client: Client;
  transport: StdioClientTransport;
  /** The `pat mcp` process (the SDK's child), for its exit status. */
  child: ChildProcess;
  /** Everything `pat mcp` wrote to stderr so far. */
  stderr(): string;
  /** Closes the session as a host does: stdin closed first; resolves with how long the process took to go. */
  close(): Promise<number>;
}

const sessions = new Set<StdioSession>();

/** Spawns `pat --home HOME mcp ...args` through the SDK's StdioClientTransport and connects to it. */
export async function openStdio(home: string, args: readonly string[] = [], options: { era?: Era; name?: string } = {}): Promise<StdioSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [PAT, "--home", home, "mcp", ...args],
    cwd: ROOT,
    // The SDK passes only a default environment (HOME, PATH...): no PATTERND_* of the test's leaks in.
    stderr: "pipe",
  });
  let err = "";
  transport.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
  const client = newClient(options.era ?? "modern", options.name);
  await client.connect(transport);
  // The transport keeps its child private; a host never needs it, the exit-status test does.
  const child = (transport as unknown as { _process?: ChildProcess })._process;
  if (child === undefined) throw new Error("the SDK's StdioClientTransport no longer keeps its child as _process: update test/mcp-client.ts");
  const session: StdioSession = {
    client,
    transport,
    child,
    stderr: () => err,
    async close() {
      sessions.delete(session);
      const started = Date.now();
      await client.close();
      if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once("exit", resolve));
      return Date.now() - started;
    },
  };
  sessions.add(session);
  return session;
}

export interface HttpBridge {
  proc: DaemonProcess;
  url: URL;
}

const bridges = new Set<DaemonProcess>();

/** `pat --home HOME mcp --http ADDRESS ...args` left running; resolves once it prints its URL on stderr. */
export async function startHttp(home: string, address: string, args: readonly string[] = []): Promise<HttpBridge> {
  const proc = spawnPat(ROOT, ["--home", home, "mcp", "--http", address, ...args]);
  bridges.add(proc);
  void proc.exited.then(() => bridges.delete(proc));
  const err = await proc.waitForStderr(/patternd MCP on (http:\/\/\S+\/mcp)/);
  return { proc, url: new URL(/patternd MCP on (http:\/\/\S+\/mcp)/.exec(err)![1]!) };
}

/** Connects an SDK client over Streamable HTTP. */
export async function openHttp(url: URL, era: Era): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(url);
  const client = newClient(era);
  await client.connect(transport);
  return { client, transport };
}

/** Closes every stdio session and stops every HTTP bridge still running. Call from afterAll, before the harness's cleanup. */
export async function closeMcp(): Promise<void> {
  await Promise.all([...sessions].map((session) => session.close().catch(() => undefined)));
  await Promise.all([...bridges].map((proc) => proc.signal("SIGTERM").catch(() => undefined)));
}

interface ToolOutcome {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}

export function textOf(result: ToolOutcome): string {
  return result.content.map((block) => block.text ?? "").join("\n");
}

/** Calls a tool that must succeed; returns its structuredContent. */
export async function callOk<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const result = (await client.callTool({ name, arguments: args })) as ToolOutcome;
  expect(result.isError, `${name} failed: ${textOf(result)}`).toBeFalsy();
  expect(result.structuredContent, `${name} has structuredContent`).toBeDefined();
  return result.structuredContent as T;
}

export interface ToolError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
  /** The text block a model reads. */
  text: string;
}

/** Calls a tool that must fail as a tool result (isError: true), not a protocol error; returns the error. */
export async function callError(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolError> {
  const result = (await client.callTool({ name, arguments: args })) as ToolOutcome;
  expect(result.isError, `${name} should have failed, got: ${textOf(result)}`).toBe(true);
  const error = (result.structuredContent as { error: Omit<ToolError, "text"> }).error;
  return { ...error, text: textOf(result) };
}

export interface Notified {
  method: "notifications/resources/updated" | "notifications/resources/list_changed" | "notifications/prompts/list_changed";
  uri?: string;
}

/** Records the store-change notifications the client receives, in order (set before the change). */
export function recordChanges(client: Client): Notified[] {
  const seen: Notified[] = [];
  client.setNotificationHandler("notifications/resources/updated", (n) => void seen.push({ method: "notifications/resources/updated", uri: n.params.uri }));
  client.setNotificationHandler("notifications/resources/list_changed", () => void seen.push({ method: "notifications/resources/list_changed" }));
  client.setNotificationHandler("notifications/prompts/list_changed", () => void seen.push({ method: "notifications/prompts/list_changed" }));
  return seen;
}
