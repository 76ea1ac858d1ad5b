/**
 * `pat mcp`: the daemon of the home served as MCP, over stdio (a host
 * launches it) or Streamable HTTP on loopback (--http HOST:PORT). Both
 * protocol eras are answered: 2026-07-28 and the 2025 initialize handshake.
 * Stdout is the protocol channel over stdio, so everything pat says goes to
 * stderr.
 */
import { createServer, type Server as HttpServer } from "node:http";
import { localhostHostValidation, localhostOriginValidation, toNodeHandler } from "@modelcontextprotocol/node";
import { createMcpHandler } from "@modelcontextprotocol/server";
import { serveStdio } from "@modelcontextprotocol/server/stdio";
import { DaemonUnreachableError } from "../client.js";
import { UsageError } from "../cli/args.js";
import { EXIT, type Cli } from "../cli/context.js";
import { startDetached } from "../cli/lifecycle.js";
import { DaemonLink } from "./daemon-link.js";
import { HandlerInbox } from "./handler-inbox.js";
import { patternUri } from "./patterns.js";
import { createBridgeServer } from "./server.js";
import { StoreWatch } from "./store-watch.js";
import { Toolbox } from "./toolbox.js";

export interface McpOptions {
  /** "HOST:PORT" for Streamable HTTP; absent for stdio. */
  http: string | undefined;
  noStart: boolean;
  readOnly: boolean;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** HOST:PORT for --http, refused unless the host is loopback (the endpoint has no authentication). */
export function parseHttpAddress(text: string): { host: string; port: number } {
  const match = /^(\[::1\]|[^:]+):(\d{1,5})$/.exec(text);
  const port = match === null ? NaN : Number(match[2]);
  if (match === null || port > 65_535) throw new UsageError(`--http takes HOST:PORT on loopback, e.g. 127.0.0.1:8765 (got ${JSON.stringify(text)}); port 0 picks a free one`);
  const host = match[1]!;
  if (!LOOPBACK.has(host)) {
    throw new UsageError(`--http serves loopback only (127.0.0.1, localhost or [::1]): the endpoint has no authentication, and ${host} would expose the store to the network`);
  }
  return { host: host === "[::1]" ? "::1" : host, port };
}

export async function serveMcp(cli: Cli, options: McpOptions): Promise<number> {
  const address = options.http === undefined ? undefined : parseHttpAddress(options.http);
  // Over stdio stdout carries the protocol: what starting the daemon prints goes to stderr.
  const say = (text: string) => cli.err(text);
  const quiet: Cli = { ...cli, json: false, out: say, print: (data, human) => say(human === undefined ? "" : human(data as never)) };
  const link = new DaemonLink({
    socketPath: cli.config.socketPath,
    agentId: cli.argv.globals.agentId ?? process.env.PATTERND_AGENT_ID,
    start: options.noStart
      ? undefined
      : async () => {
          if ((await startDetached(quiet, {})) !== EXIT.ok) throw new DaemonUnreachableError(cli.config.socketPath, "patternd could not be started; see the lines above");
        },
  });
  let version: string;
  try {
    // The server's version is the daemon's: what the host is really talking to.
    version = (await link.request<{ version: string }>("system:health", {})).version;
  } catch (err) {
    if (!(err instanceof DaemonUnreachableError)) throw err;
    cli.err(`pat mcp: ${err.message}${options.noStart ? " (--no-start: not starting it)" : ""}`);
    return EXIT.unreachable;
  }
  const toolbox = new Toolbox(link, new HandlerInbox(link), { readOnly: options.readOnly });
  const watch = new StoreWatch(link);
  const deps = { link, toolbox, version };
  return address === undefined
    ? serveOverStdio((ctx) => createBridgeServer({ ...deps, changes: { mode: "self", watch, era: ctx.era } }), link)
    : serveOverHttp(cli, (ctx) => createBridgeServer({ ...deps, changes: ctx.era === "modern" ? { mode: "entry" } : { mode: "none" } }), watch, link, address);
}

function serveOverStdio(factory: Parameters<typeof serveStdio>[0], link: DaemonLink): Promise<number> {
  const handle = serveStdio(factory, { onerror: (err) => process.stderr.write(`pat mcp: ${err.message}\n`) });
  return new Promise((resolve) => {
    const finish = () => {
      void handle
        .close()
        .then(() => link.close())
        .finally(() => resolve(EXIT.ok));
    };
    // The host closing our stdin ends the session (the MCP stdio binding); so do the usual signals.
    process.stdin.once("end", finish);
    process.stdin.once("close", finish);
    process.once("SIGINT", finish);
    process.once("SIGTERM", finish);
  });
}

function serveOverHttp(cli: Cli, factory: Parameters<typeof createMcpHandler>[0], watch: StoreWatch, link: DaemonLink, address: { host: string; port: number }): Promise<number> {
  const handler = createMcpHandler(factory);
  // Store changes go to the 2026-07-28 clients' subscriptions/listen streams (each gets what its filter asks for).
  watch.listen((change) => {
    handler.notify.resourcesChanged();
    handler.notify.promptsChanged();
    for (const name of change.names) handler.notify.resourceUpdated(patternUri(name));
  });
  const serve = toNodeHandler(handler);
  const validHost = localhostHostValidation();
  const validOrigin = localhostOriginValidation();
  const server: HttpServer = createServer((req, res) => {
    if (!validHost(req, res) || !validOrigin(req, res)) return;
    if (new URL(req.url ?? "/", "http://localhost").pathname !== "/mcp") {
      res.writeHead(404, { "content-type": "text/plain" }).end("patternd serves MCP on /mcp\n");
      return;
    }
    void serve(req, res);
  });
  return new Promise((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      cli.err(`pat mcp: cannot listen on ${address.host}:${address.port}: ${err.code === "EADDRINUSE" ? "the port is in use" : err.message}`);
      // The daemon connection is open already: left open, it would keep pat running after saying it cannot serve.
      void link.close().finally(() => resolve(EXIT.usage));
    });
    server.listen(address.port, address.host, () => {
      const bound = server.address();
      const port = typeof bound === "object" && bound !== null ? bound.port : address.port;
      const host = address.host.includes(":") ? `[${address.host}]` : address.host;
      cli.err(`patternd MCP on http://${host}:${port}/mcp (Streamable HTTP; loopback only)`);
      const finish = () => {
        server.close();
        server.closeAllConnections();
        void handler
          .close()
          .then(() => link.close())
          .then(() => resolve(EXIT.ok), reject);
      };
      process.once("SIGINT", finish);
      process.once("SIGTERM", finish);
    });
  });
}
