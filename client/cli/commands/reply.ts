/** One request and its reply printed: the body of most verbs. */
import { EXIT, type Cli } from "../context.js";

/** One request, its result printed (JSON, or `human` on a terminal). */
export async function requestAndPrint<T>(cli: Cli, event: string, data: Record<string, unknown>, human: (data: T) => string): Promise<number> {
  const client = await cli.connect();
  try {
    const result = await client.request<T>(event, data);
    cli.print(result, human);
    warn(cli, result);
    return EXIT.ok;
  } finally {
    await client.close();
  }
}

/** A reply's warnings ([{path, message}]: accepted, but probably not what was meant) also go to stderr, where a person sees them whatever the output. */
export function warn(cli: Cli, result: unknown): void {
  const warnings = (result as { warnings?: unknown } | null)?.warnings;
  if (!Array.isArray(warnings)) return;
  for (const warning of warnings as { path?: unknown; message?: unknown }[]) {
    if (typeof warning?.message === "string") cli.err(`pat: warning${typeof warning.path === "string" ? ` at ${warning.path}` : ""}: ${warning.message}`);
  }
}

