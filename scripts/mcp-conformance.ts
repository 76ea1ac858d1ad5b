/**
 * `npm run conformance`: the official MCP conformance suite
 * (@modelcontextprotocol/conformance, server mode) against `pat mcp --http`.
 * Makes a temporary home, starts the bridge on a free loopback port (it
 * starts the home's daemon), runs the suite with the committed baseline of
 * expected failures (test/mcp-conformance-baseline.yml, a reason per
 * entry), then stops the bridge and the daemon and exits with the suite's
 * code: 0 when every scenario passes or is an expected failure, 1 on an
 * unexpected failure or a baseline entry that now passes.
 *
 *   npm run conformance                        the default (active) suite, as CI runs it
 *   npm run conformance -- --suite all         pending scenarios too
 *   npm run conformance -- --scenario ping     one scenario; any other option goes to the suite as is
 *   npm run conformance -- --keep              keep the home and the suite's results directory
 *
 * The suite needs Node 22 or later (it uses fs.globSync): `npm run
 * conformance` runs this script under Node 26 through npx, and the bridge and
 * the suite under the same Node. Results are written to a temporary directory,
 * kept (and named) when the run fails.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(import.meta.url), "..", "..", "..");
const PAT = join(ROOT, "dist", "client", "cli", "pat.js");
const BASELINE = join(ROOT, "test", "mcp-conformance-baseline.yml");
const SUITE_CLI = createRequire(import.meta.url).resolve("@modelcontextprotocol/conformance/dist/index.js");
const MIN_NODE_MAJOR = 22;
/** Starting the daemon seeds a git store first: give it time on a loaded machine. */
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const URL_LINE = /patternd MCP on (http:\/\/\S+\/mcp)/;

async function main(): Promise<number> {
  const major = Number(process.versions.node.split(".")[0]);
  if (major < MIN_NODE_MAJOR) {
    process.stderr.write(
      `conformance: the MCP conformance suite needs Node ${MIN_NODE_MAJOR} or later (this is ${process.version}); ` +
        `run \`npm run conformance\`, which runs it under Node 26 through npx\n`,
    );
    return 2;
  }
  const args = process.argv.slice(2);
  const keep = args.includes("--keep");
  const suiteArgs = args.filter((arg) => arg !== "--keep");

  // The daemon's socket sits at <home>/var/run/patternd.sock: keep the path short (Unix sockets take ~107 bytes).
  const home = await mkdtemp(join(tmpdir().length > 40 ? "/tmp" : tmpdir(), "pd-mcp-"));
  const results = await mkdtemp(join(tmpdir(), "patternd-conformance-"));
  let bridge: Bridge | undefined;
  let code = 1;
  try {
    bridge = await startBridge(home);
    process.stdout.write(`conformance: pat mcp --http serving ${bridge.url} (home ${home}, Node ${process.version})\n`);
    code = await run(process.execPath, [SUITE_CLI, "server", "--url", bridge.url, "--expected-failures", BASELINE, "-o", results, ...suiteArgs], "inherit");
  } finally {
    const stopped = bridge === undefined ? "not started" : await stopBridge(bridge);
    const daemon = await run(process.execPath, [PAT, "--home", home, "stop"], "ignore");
    process.stdout.write(`conformance: bridge ${stopped}; daemon ${daemon === 0 ? "stopped" : `not stopped by pat stop (exit ${daemon})`}\n`);
    if (bridge !== undefined && stopped !== "exit 0") code = code === 0 ? 1 : code;
    if (keep || code !== 0) process.stdout.write(`conformance: kept the home ${home} and the results ${results}\n`);
    else await Promise.all([rm(home, { recursive: true, force: true }), rm(results, { recursive: true, force: true })]);
  }
  process.stdout.write(`conformance: ${code === 0 ? "passed (every scenario passes or is an expected failure in the baseline)" : `FAILED (exit ${code})`}\n`);
  return code;
}

interface Bridge {
  child: ChildProcess;
  url: string;
  exited: Promise<string>;
  stderr(): string;
}

/** `pat --home HOME mcp --http 127.0.0.1:0`, ready once it prints the URL it serves. */
function startBridge(home: string): Promise<Bridge> {
  const child = spawn(process.execPath, [PAT, "--home", home, "mcp", "--http", "127.0.0.1:0"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  const exited = new Promise<string>((settle) => {
    child.once("exit", (code, signal) => settle(signal === null ? `exit ${code}` : `signal ${signal}`));
    child.once("error", (err) => settle(`spawn error: ${err.message}`));
  });
  return new Promise((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`pat mcp --http printed no URL within ${READY_TIMEOUT_MS} ms: ${stderr.trim()}`)), READY_TIMEOUT_MS);
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      stderr += text;
      const url = URL_LINE.exec(stderr)?.[1];
      if (url === undefined) return;
      clearTimeout(timer);
      ready({ child, url, exited, stderr: () => stderr });
    });
    void exited.then((how) => {
      clearTimeout(timer);
      fail(new Error(`pat mcp --http ended before serving (${how}): ${stderr.trim()}`));
    });
  });
}

/** SIGTERM, then how the bridge ended ("exit 0" when clean). */
async function stopBridge(bridge: Bridge): Promise<string> {
  bridge.child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((settle) => (timer = setTimeout(() => settle("timeout"), STOP_TIMEOUT_MS)));
  const how = await Promise.race([bridge.exited, timeout]);
  clearTimeout(timer);
  if (how === "timeout") {
    bridge.child.kill("SIGKILL");
    return `did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM (killed)`;
  }
  return how === "exit 0" ? how : `${how}: ${bridge.stderr().trim()}`;
}

function run(command: string, args: string[], stdio: "inherit" | "ignore"): Promise<number> {
  return new Promise((settle) => {
    const child = spawn(command, args, { stdio: ["ignore", stdio, stdio] });
    child.once("error", () => settle(127));
    child.once("exit", (code, signal) => settle(code ?? (signal === null ? 1 : 128)));
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`conformance failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
