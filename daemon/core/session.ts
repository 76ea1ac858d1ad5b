/** What a handler may do with the connection its request came on. */
import type { Push } from "./protocol.js";

export interface Session {
  readonly id: number;
  /** Default agent_id for requests on this connection (set by system:hello). */
  agentId: string | undefined;
  /**
   * Queues a push. Returns false, without queuing, when the connection's
   * outgoing queue is over its limit, unless `force` is set (used once, to
   * tell the client what it lost).
   */
  push(message: Push, force?: boolean): boolean;
  /** Runs `callback` when the connection closes. */
  onClose(callback: () => void): void;
}
