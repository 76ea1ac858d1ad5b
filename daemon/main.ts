/**
 * Process entry of the daemon: argv and environment → Config → start();
 * signals → stop(). The only place that exits the process.
 */
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { isBranchName, LOG_LEVELS, resolveConfig, settingProblems } from "./config.js";
import { AlreadyRunningError } from "./core/instance-lock.js";
import { start, type Daemon } from "./start.js";

/** Signals closer together than this count as one (Ctrl-C reaches both npm/pat and the daemon). */
const REPEAT_SIGNAL_MS = 1_000;

const USAGE = "usage: node daemon/main.js [--home DIR] [--socket PATH] [--store DIR] [--branch NAME] [--log-level LEVEL]";

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        home: { type: "string" },
        socket: { type: "string" },
        store: { type: "string" },
        branch: { type: "string" },
        "log-level": { type: "string" },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`patternd: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const config = resolveConfig(
    { home: values.home, socket: values.socket, store: values.store, branch: values.branch, logLevel: values["log-level"] },
    process.env,
    process.cwd(),
  );
  if (!LOG_LEVELS.includes(config.logLevel)) {
    const from = values["log-level"] === undefined ? "PATTERND_LOG_LEVEL" : "--log-level";
    process.stderr.write(`patternd: ${from} must be one of ${LOG_LEVELS.join(", ")} (got ${config.logLevel})\n${USAGE}\n`);
    process.exit(2);
  }
  if (config.branch !== undefined && !isBranchName(config.branch)) {
    const from = values.branch === undefined ? "PATTERND_BRANCH" : "--branch";
    process.stderr.write(`patternd: ${from} must be a git branch name, e.g. main (got ${JSON.stringify(config.branch)})\n${USAGE}\n`);
    process.exit(2);
  }
  const problems = settingProblems(process.env);
  if (problems.length > 0) {
    process.stderr.write(problems.map((problem) => `patternd: ${problem}\n`).join("") + USAGE + "\n");
    process.exit(2);
  }

  let daemon: Daemon;
  try {
    daemon = await start(config);
  } catch (err) {
    const message = err instanceof AlreadyRunningError ? `${err.message}; stop it with: pat stop` : (err as Error).message;
    process.stderr.write(`patternd: cannot start: ${message}\n`);
    process.exit(1);
  }

  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstSignalAt === 0) {
      firstSignalAt = performance.now();
      void daemon.stop(signal);
    } else if (performance.now() - firstSignalAt > REPEAT_SIGNAL_MS) {
      // A deliberate second signal: the user does not want to wait for the clean stop.
      process.stderr.write(`patternd: ${signal} again; exiting without waiting\n`);
      process.exit(1);
    }
    // Within the window it is the same Ctrl-C arriving twice (terminal and a wrapper like npm): ignore.
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("uncaughtException", (err) => {
    process.stderr.write(`patternd: uncaught exception, stopping: ${err.stack ?? String(err)}\n`);
    void daemon.stop("uncaught exception").finally(() => process.exit(1));
  });

  // The suggested commands must reach this daemon from where they are typed.
  const where = config.home === process.cwd() ? "" : ` --home ${config.home}`;
  const target = config.socketInHome ? where : `${where} --socket ${config.socketPath}`;
  process.stdout.write(
    `patternd ${daemon.version} listening on ${daemon.socketPath}\n` +
      `home: ${config.home}\n` +
      `In another shell${target === "" ? ", from this directory" : ""}:\n` +
      `  npx pat send system:health${target}     # is it up?\n` +
      `  npx pat discover${target}               # what it answers\n` +
      `  npx pat watch '**'${target}             # see every event as it is routed\n` +
      `  npx pat stop${target}                   # stop it (or press Ctrl-C here)\n`,
  );
  await daemon.stopped;
  process.exit(0);
}

void main();
