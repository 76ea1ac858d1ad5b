/** What a handler may do with the connection its request came on. */
import type { DirectPush, Push } from "./protocol.js";

export interface Session {
  readonly id: number;
  /** Default agent_id for requests on this connection (set by system:hello). */
  agentId: string | undefined;
  /**
   * The emit depth its requests are dispatched at: 0, or more while the
   * connection is answering a call made at some depth (a handler that
   * emits while handling is nested in that call; the limit stops loops).
   */
  nesting: number;
  /**
   * Queues a push. Returns false, without queuing, when the connection's
   * outgoing queue is over its limit, unless `force` is set (used once, to
   * tell the client what it lost).
   */
  push(message: Push | DirectPush, force?: boolean): boolean;
  /** Runs `callback` when the connection closes. */
  onClose(callback: () => void): void;
  /**
   * Runs `callback` when the client has sent all it will (its end of the
   * socket is shut; the replies owed are still written): the only sign a
   * crashed client gives until something is written to it.
   */
  onInputEnd(callback: () => void): void;
}
