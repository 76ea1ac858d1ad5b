/**
 * `pat handle EVENT -- COMMAND ARGS...`: any program is a handler (issue
 * 14). Each call runs COMMAND once, without a shell: the call's data as
 * JSON on its stdin, its stdout (JSON) the result. A non-zero exit, a
 * signal, or output that is not JSON answers with an error carrying its
 * stderr. handler:cancel (deadline, caller gone) kills the process.
 */
import { spawn } from "node:child_process";
import { HandlerError, type HandlerCall } from "../handlers.js";
import { coerce, unknownOption, UsageError } from "./args.js";
import { EXIT, type Cli } from "./context.js";

/** The stderr kept for an error reply. */
const MAX_STDERR_CHARS = 4_000;
/** A result larger than this is refused rather than held in memory. */
const MAX_STDOUT_BYTES = 8 * 1024 * 1024;

/** Its options go before the `--`; what follows is the command's own. */
const HANDLE_OPTIONS = ["group", "concurrency", "timeout-ms", "description", "observe"];

export async function handle(cli: Cli): Promise<number> {
  const { positionals, pairs } = cli.argv;
  const [event, command, ...args] = positionals;
  if (event === undefined || command === undefined) {
    throw new UsageError("pat handle needs an event and a command, e.g. pat handle task:summarize -- ./summarize.sh --short");
  }
  const options: { group?: string; concurrency?: number; timeoutMs?: number; mode?: "observe"; description?: string } = {};
  for (const { key, value } of pairs) {
    if (!HANDLE_OPTIONS.includes(key)) throw unknownOption(key, HANDLE_OPTIONS);
    if (key === "observe") {
      options.mode = "observe";
      continue;
    }
    if (value === true) throw new UsageError(`--${key} needs a value`);
    if (key === "group") options.group = value;
    else if (key === "concurrency") options.concurrency = coerce(value, { type: "integer" }, key) as number;
    else if (key === "timeout-ms") options.timeoutMs = coerce(value, { type: "integer" }, key) as number;
    else options.description = value;
  }
  const client = await cli.connect();
  const handler = await client.handle(event, (data, call) => runCommand(command, args, data, call), options);
  cli.err(`handling ${event} as ${handler.id}${options.group === undefined ? "" : ` in group ${options.group}`}: ${[command, ...args].join(" ")} (Ctrl-C to stop)`);
  let interrupted = false;
  const stopHandling = () => {
    interrupted = true;
    void client.close();
  };
  process.once("SIGINT", stopHandling);
  process.once("SIGTERM", stopHandling);
  await client.closed();
  if (interrupted) return EXIT.ok;
  cli.err("the daemon closed the connection");
  return EXIT.unreachable;
}

/** Runs the command for one call and resolves with its JSON output; rejects with a HandlerError saying what went wrong. */
function runCommand(command: string, args: readonly string[], data: Record<string, unknown>, call: HandlerCall): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, PAT_CALL_ID: call.callId, PAT_EVENT: call.event, PAT_HANDLER_ID: call.handlerId, ...(call.agentId === undefined ? {} : { PAT_AGENT_ID: call.agentId }) },
    });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_STDOUT_BYTES) child.kill("SIGKILL");
      else stdout.push(chunk);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      if (stderr.length < MAX_STDERR_CHARS * 2) stderr += chunk;
    });
    const abort = () => child.kill("SIGTERM");
    call.signal.addEventListener("abort", abort, { once: true });
    child.on("error", (err) => reject(new HandlerError("handler_failed", `cannot run ${command}: ${err.message}`)));
    child.on("close", (code, signal) => {
      call.signal.removeEventListener("abort", abort);
      const tail = stderr.trim().slice(-MAX_STDERR_CHARS);
      const details = { exit_code: code, ...(signal === null ? {} : { signal }), stderr: tail };
      if (stdoutBytes > MAX_STDOUT_BYTES) {
        reject(new HandlerError("handler_failed", `${command} wrote more than ${MAX_STDOUT_BYTES} bytes`, details));
      } else if (code !== 0) {
        const why = signal !== null ? `was killed by ${signal}` : `exited with ${code}`;
        reject(new HandlerError("handler_failed", `${command} ${why}${tail === "" ? "" : `: ${tail.split("\n").at(-1)}`}`, details));
      } else {
        const text = Buffer.concat(stdout).toString("utf8").trim();
        try {
          resolve(text === "" ? null : (JSON.parse(text) as unknown));
        } catch {
          reject(new HandlerError("handler_failed", `${command} printed something that is not JSON: ${JSON.stringify(text.slice(0, 200))}`, { ...details, stdout: text.slice(0, MAX_STDERR_CHARS) }));
        }
      }
    });
    // A command that does not read its input must not fail the call with EPIPE.
    child.stdin.on("error", () => undefined);
    child.stdin.end(JSON.stringify(data));
  });
}
