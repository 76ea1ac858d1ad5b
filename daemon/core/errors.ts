/**
 * The stable error codes of the wire protocol (SPEC §2). Handlers throw
 * `DaemonError`; only the router turns errors into replies.
 */
export const ERROR_CODES = [
  "invalid_json",
  "invalid_request",
  "too_large",
  "unknown_event",
  "invalid_params",
  "not_found",
  "conflict",
  "merge_conflict",
  "limit_exceeded",
  "shutting_down",
  "no_handler",
  "timeout",
  "handler_gone",
  "unsafe_path",
  "store_refused",
  "store_busy",
  "store_missing",
  "unavailable",
  "internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface WireError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export class DaemonError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "DaemonError";
    this.code = code;
    this.details = details;
  }

  toWire(): WireError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}
