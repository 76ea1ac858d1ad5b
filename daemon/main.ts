/**
 * Process entry of the daemon: argv and environment → Config → the daemon
 * in the foreground. With `pat run` (foreground.ts), the only places that exit the process.
 */
import { parseArgs } from "node:util";
import { isBranchName, LOG_LEVELS, resolveConfig, settingProblems } from "./config.js";
import { runInForeground } from "./foreground.js";
import { natsProblems } from "./modules/nats/model/settings.js";

const USAGE =
  "usage: node daemon/main.js [--home DIR] [--socket PATH] [--store DIR] [--branch NAME] [--log-level LEVEL] [--sync-every SECONDS] [--nats URL [--nats-export GLOB]... [--nats-import GLOB]...]";

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
        nats: { type: "string" },
        "nats-export": { type: "string", multiple: true },
        "nats-import": { type: "string", multiple: true },
        "sync-every": { type: "string" },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`patternd: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const nats = { nats: values.nats, natsExport: values["nats-export"], natsImport: values["nats-import"] };
  const config = resolveConfig(
    { home: values.home, socket: values.socket, store: values.store, branch: values.branch, logLevel: values["log-level"], syncEvery: values["sync-every"], ...nats },
    process.env,
    process.cwd(),
  );
  if (!LOG_LEVELS.includes(config.logLevel)) {
    const from = values["log-level"] === undefined ? "PATTERND_LOG_LEVEL" : "--log-level";
    process.stderr.write(`patternd: ${from} must be one of ${LOG_LEVELS.join(", ")} (got ${config.logLevel})\n${USAGE}\n`);
    process.exit(2);
  }
  if (Number.isNaN(config.limits.maxStateBytes)) {
    process.stderr.write(`patternd: PATTERND_STATE_MAX_BYTES must be a whole number of bytes ≥ 1, e.g. 67108864 (got ${JSON.stringify(process.env.PATTERND_STATE_MAX_BYTES)})\n${USAGE}\n`);
    process.exit(2);
  }
  if (config.branch !== undefined && !isBranchName(config.branch)) {
    const from = values.branch === undefined ? "PATTERND_BRANCH" : "--branch";
    process.stderr.write(`patternd: ${from} must be a git branch name, e.g. main (got ${JSON.stringify(config.branch)})\n${USAGE}\n`);
    process.exit(2);
  }
  if (Number.isNaN(config.syncEverySeconds)) {
    const from = values["sync-every"] === undefined ? "PATTERND_SYNC_EVERY" : "--sync-every";
    process.stderr.write(`patternd: ${from} must be a number of seconds, at least 1, e.g. 300 (got ${JSON.stringify(values["sync-every"] ?? process.env.PATTERND_SYNC_EVERY)})\n${USAGE}\n`);
    process.exit(2);
  }
  const problems = [...settingProblems(process.env), ...natsProblems(nats, process.env)];
  if (problems.length > 0) {
    process.stderr.write(problems.map((problem) => `patternd: ${problem}\n`).join("") + USAGE + "\n");
    process.exit(2);
  }

  process.exit(await runInForeground(config));
}

void main();
