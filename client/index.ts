/** Public API of the patternd client library. */
import { resolveConfig } from "../daemon/config.js";
import { Client } from "./client.js";

export { Client, DaemonUnreachableError, RemoteError, RequestTimeoutError } from "./client.js";
export type { ClientOptions, RequestOptions, Subscription } from "./client.js";
export { HandlerCall, HandlerError } from "./handlers.js";
export { listPages } from "./list-pages.js";
export type { ListPage } from "./list-pages.js";
export type { HandleOptions, Handler, HandlerFunction } from "./handlers.js";
export type { Push, Reply } from "../daemon/core/protocol.js";

export interface ConnectOptions {
  /** The socket to use; else derived from `home`, PATTERND_SOCKET, PATTERND_HOME or the working directory. */
  socketPath?: string;
  home?: string;
  agentId?: string;
  timeoutMs?: number;
}

export function connect(options: ConnectOptions = {}): Promise<Client> {
  const socketPath = options.socketPath ?? resolveConfig({ home: options.home }, process.env, process.cwd()).socketPath;
  return Client.connect({ socketPath, agentId: options.agentId, timeoutMs: options.timeoutMs });
}
