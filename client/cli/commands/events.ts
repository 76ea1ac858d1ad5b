/** Events on the wire: pat send, call, handle, mcp, discover, watch. */
import { renderSendError } from "../send-hints.js";
import { send } from "../send.js";
import { renderDiscover, type EventSummary } from "../render.js";
import type { Cli } from "../context.js";
import type { Command } from "./command.js";
import { onlyPositionals, parseOptions } from "./options.js";
import { requestAndPrint } from "./reply.js";

export const EVENT_COMMANDS = {
  send: {
    usage: "pat send EVENT ['{...}'] [--key value ...] [--from-file F|-]",
    summary: "send one event and print its reply",
    options: [
      ["--key value", "a field of the event's data, typed by its params (pat help EVENT lists them); dotted keys nest: --modifications.metadata.tags '[\"swiss\"]'"],
      ["--from-file F|-", "the data as a JSON object from a file, or - for standard input; --KEY VALUE pairs and the data argument go on top"],
    ],
    examples: ["pat send system:health", "pat send composition:get --name tournament --format yaml", `pat send state:set '{"key": "run_1.status", "value": "done"}'`],
    details: [
      "--key value pairs are typed by the event's params (pat help EVENT); dotted keys nest.",
      "A rule (event:emit --condition, composition:discover --where) is a JSON Logic object or true/false,",
      `e.g. --condition '{"==": [{"var": "state.a.b"}, 4]}'; text such as 'state.a.b == 4' is refused with its object form.`,
      "composition:discover --where is JSON Logic, unlike pat find --where 'path>0.7' (that one sends metadata_filter).",
    ],
    run: (cli) => send(cli, "send"),
    renderError: renderSendError,
    jsonWhenPiped: true,
  },
  call: {
    usage: "pat call EVENT ['{...}'] [--key value ...] [--from-file F|-]",
    summary: "call an event a connected handler answers and print its result (waits as long as the handler's timeout)",
    options: [
      ["--key value", "a field of the event's data, typed by the params the handler registered; dotted keys nest"],
      ["--from-file F|-", "the data as a JSON object from a file, or - for standard input"],
    ],
    examples: [`pat call task:summarize '{"text": "..."}'`, "pat call evaluation:score --answer 42"],
    details: [
      "Like pat send, without pat's own 30 s limit: the daemon's deadline for the call decides (the handler's timeout_ms).",
      "no_handler: nobody answers the event; timeout: the handler did not answer in time; handler_gone: it went away mid-call.",
    ],
    run: (cli) => send(cli, "call"),
    renderError: renderSendError,
    jsonWhenPiped: true,
  },
  handle: {
    usage: "pat handle EVENT [--group G] [--concurrency N] [--timeout-ms MS] [--description TEXT] [--observe] -- COMMAND ARGS...",
    summary: "answer EVENT (a name or glob) by running COMMAND once per call: data as JSON on stdin, result as JSON on stdout",
    flags: ["observe"],
    options: [
      ["--group G", "share the event with the group's other members (one answers each call); without it the handler is the event's exclusive owner"],
      ["--concurrency N", "calls run at once (default 1); more wait in the daemon's queue"],
      ["--timeout-ms MS", "how long a call may take before the caller gets timeout and the command SIGTERM"],
      ["--description TEXT", "what the event does, shown by system:discover and pat help EVENT"],
      ["--observe", "see every call, never answer"],
    ],
    details: [
      "COMMAND runs without a shell. A non-zero exit, or stdout that is not JSON, answers with error handler_failed and the command's stderr;",
      "empty stdout answers null. The call is also in the environment: PAT_CALL_ID, PAT_EVENT, PAT_HANDLER_ID, PAT_AGENT_ID.",
      "A call cancelled by the daemon (deadline, caller gone) gets SIGTERM. Runs until Ctrl-C; the registration ends with it.",
    ],
    examples: ["pat handle task:summarize -- ./summarize.sh --short", "pat handle 'evaluation:*' --group scorers --concurrency 4 -- python3 score.py"],
    run: async (cli) => (await import("../handle.js")).handle(cli),
  },
  mcp: {
    usage: "pat mcp [--http HOST:PORT] [--read-only] [--no-start]",
    summary: "serve the daemon as an MCP server: over stdio for a host to launch, or Streamable HTTP on loopback",
    flags: ["read-only", "no-start"],
    options: [
      ["--http HOST:PORT", "Streamable HTTP on http://HOST:PORT/mcp; loopback hosts only (127.0.0.1, localhost, [::1]), Origin checked; port 0 picks one"],
      [
        "--read-only",
        "only the tools that change nothing (select, discover, get, diff, lineage, decisions, state_get, events_wait, patternd_help; patternd_call then sends read events only)",
      ],
      ["--no-start", "exit 3 when no daemon answers, instead of starting the home's daemon"],
    ],
    details: [
      "Claude Code: claude mcp add patternd -- pat mcp   (the README shows Claude Desktop and Cursor).",
      "Reconnects when the daemon restarts. system:shutdown, composition:delete and state:delete are never reachable through MCP.",
      "Changes are attributed to --agent-id (or $PATTERND_AGENT_ID), else to mcp:<the MCP client's name>.",
    ],
    examples: ["claude mcp add patternd -- pat mcp", "pat mcp --http 127.0.0.1:8765 --read-only"],
    run: async (cli) => {
      const { values, flags } = parseOptions(cli.argv, { http: "value", "read-only": "flag", "no-start": "flag" }, 0);
      // Loaded only here: the MCP SDK costs ~350 ms at start, more than every other pat command takes in all.
      const { serveMcp } = await import("../../mcp/serve.js");
      return serveMcp(cli, { http: values.http, readOnly: flags.has("read-only"), noStart: flags.has("no-start") });
    },
  },
  discover: { usage: "pat discover [NAMESPACE]", summary: "list the events the daemon answers", examples: ["pat discover", "pat discover composition"], run: discover },
  watch: {
    usage: "pat watch [PATTERN ...] [--retry]",
    summary: "print routed events as they happen (default: all); --retry reconnects when the daemon restarts",
    flags: ["retry"],
    details: [
      "PATTERN: an event name or a glob over colon segments (* one segment, ** any rest), e.g. composition:* state:**.",
      "Output: one line per event; -o json (--json): one JSON object per line, {event, data, subscription, seq, ts};",
      "  -o yaml: one YAML document per event, each starting with ---. The notices below come in the same form.",
      "--retry: when the daemon stops, wait for it and reconnect (also when none runs yet). The same daemon replays what was missed;",
      "  a restarted one is a fresh instance: a line says so and watching starts again from its first event",
      '  (JSON: {"notice": "fresh_instance", "pid", "previous_pid", "previous_seq"}). Events the daemon no longer holds are',
      '  announced, not replayed: {"notice": "missed", "after_seq"} (the event log keeps them: pat send monitor:get_events).',
      "Without --retry, a daemon that goes away ends pat watch with exit 3.",
    ],
    // Loaded when used, as completion below: each module pat loads at start costs every command a few ms.
    examples: ["pat watch", "pat watch 'composition:*' 'orchestration:**'", "pat watch --retry 'run:**'"],
    run: async (cli) => (await import("../watch.js")).watch(cli),
  },
} satisfies Record<string, Command>;

async function discover(cli: Cli): Promise<number> {
  const [namespace] = onlyPositionals(cli.argv, 1);
  return requestAndPrint(cli, "system:discover", namespace === undefined ? {} : { namespace }, (d: { events: Record<string, EventSummary[]> }) =>
    renderDiscover(d.events, cli.layout),
  );
}

