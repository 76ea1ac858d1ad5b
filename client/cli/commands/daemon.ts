/** The daemon's lifecycle: pat start, stop, status, restart, run (lifecycle.ts does the work, loaded only for these). */
import { LOG_LEVELS } from "../../../daemon/config.js";
import type { Argv } from "../args.js";
import type { DaemonOptions } from "../lifecycle.js";
import type { Command } from "./command.js";
import { oneOf, parseOptions } from "./options.js";

const STORE_OPTION = [
  "--store DIR",
  "the pattern store to serve (a git repository; an empty or missing folder is seeded), relative to the current directory; else $PATTERND_STORE, else HOME/var/lib/compositions",
] as const;

const DAEMON_OPTIONS = [
  STORE_OPTION,
  [
    "--branch NAME",
    "the store's branch the daemon commits to; else $PATTERND_BRANCH, else the branch checked out at start. While the store is elsewhere (detached HEAD, another branch, a rebase or merge under way), saves answer store_busy",
  ],
  ["--log-level LEVEL", `what daemon.log records: ${LOG_LEVELS.join(", ")}; else $PATTERND_LOG_LEVEL, else info`],
  ["--sync-every SECONDS", "sync the store with each of its git remotes that often (pat remote add); else $PATTERND_SYNC_EVERY. A failed sync is logged and shown in pat status, never blocking local work"],
  ["--nats URL", "link to other daemons through a NATS server (nats://host:port); else $PATTERND_NATS. The daemon starts without it being up and reconnects forever"],
  ["--nats-export GLOB", "publish routed events matching GLOB to the other daemons (repeatable or a comma list); else $PATTERND_NATS_EXPORT"],
  ["--nats-import GLOB", "route the other daemons' events matching GLOB here (repeatable or a comma list); else $PATTERND_NATS_IMPORT"],
] as const;

// Each module pat loads costs every call a few ms: these load theirs when run (as watch, mcp and completion do).
const lifecycle = () => import("../lifecycle.js");

export const DAEMON_COMMANDS = {
  start: {
    usage: "pat start [--store DIR] [--branch NAME] [--log-level LEVEL] [--sync-every SECONDS] [--nats URL [--nats-export GLOB]... [--nats-import GLOB]...]",
    summary: "start the daemon in the background; waits until it answers",
    options: DAEMON_OPTIONS,
    examples: ["pat start", "pat start --store ~/patterns --branch main", "pat start --nats nats://10.0.0.5:4222 --nats-export 'task:*' --nats-import 'task:*'"],
    run: async (cli) => (await lifecycle()).startDetached(cli, daemonOptions(cli.argv)),
  },
  stop: {
    usage: "pat stop [--store DIR]",
    summary: "stop the daemon cleanly (with --store, only if it serves DIR)",
    options: [["--store DIR", "stop it only if it serves DIR"]],
    examples: ["pat stop"],
    run: async (cli) => (await lifecycle()).stop(cli, storeOption(cli.argv)),
  },
  status: {
    usage: "pat status [--store DIR]",
    summary: "is the daemon running, and its health (with --store, exit 1 unless it serves DIR)",
    options: [["--store DIR", "exit 1 unless the running daemon serves DIR"]],
    examples: ["pat status", "pat status --json"],
    run: async (cli) => (await lifecycle()).status(cli, storeOption(cli.argv)),
  },
  restart: {
    usage: "pat restart [--store DIR] [--branch NAME] [--log-level LEVEL] [--sync-every SECONDS] [--nats URL [--nats-export GLOB]... [--nats-import GLOB]...]",
    summary: "stop the daemon (whatever store it serves), then start it with these options",
    options: DAEMON_OPTIONS,
    examples: ["pat restart", "pat restart --log-level debug"],
    run: async (cli) => (await lifecycle()).restart(cli, daemonOptions(cli.argv)),
  },
  run: {
    usage: "pat run [--store DIR] [--branch NAME] [--log-level LEVEL] [--sync-every SECONDS] [--nats URL [--nats-export GLOB]... [--nats-import GLOB]...]",
    summary: "run the daemon in the foreground (what npm start does)",
    options: DAEMON_OPTIONS,
    examples: ["pat run", "pat run --store ./patterns --log-level debug"],
    run: async (cli) => (await lifecycle()).runForeground(cli, daemonOptions(cli.argv)),
  },
} satisfies Record<string, Command>;

/** pat start / run / restart: the options the daemon takes; anything else is a usage error. */
function daemonOptions(argv: Argv): DaemonOptions {
  const { values, lists } = parseOptions(argv, { store: "value", branch: "value", "log-level": "value", "sync-every": "value", nats: "value", "nats-export": "list", "nats-import": "list" }, 0);
  const logLevel = values["log-level"];
  return {
    store: values.store,
    branch: values.branch,
    logLevel: logLevel === undefined ? undefined : oneOf("log-level", logLevel, LOG_LEVELS),
    syncEvery: values["sync-every"],
    nats: values.nats,
    natsExport: lists["nats-export"].length === 0 ? undefined : lists["nats-export"],
    natsImport: lists["nats-import"].length === 0 ? undefined : lists["nats-import"],
  };
}

/** pat status / stop: which store's daemon is meant. */
function storeOption(argv: Argv): DaemonOptions {
  return { store: parseOptions(argv, { store: "value" }, 0).values.store };
}

