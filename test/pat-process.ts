/**
 * The compiled `pat` run as a real process, the way the CLI end-to-end
 * tests need it: on pipes (JSON from pat send, text from the named commands
 * unless -o json) or on a pseudo-terminal (script(1)), always in the environment of a user who set nothing
 * patternd-specific.
 */
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { DaemonProcess, ROOT } from "./harness.js";

export const PAT = join(ROOT, "dist", "client", "cli", "pat.js");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a user who set nothing patternd-specific (nor NO_COLOR or COLUMNS, which change pat's text), plus `extra`. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith("PATTERND_") || key === "NO_COLOR" || key === "COLUMNS") delete env[key];
  return { ...env, ...extra };
}

/** `pat ARGS --home HOME` with stdout and stderr on pipes. */
export function pat(home: string, args: readonly string[]): Promise<Run> {
  return runPat([...args, "--home", home], ROOT);
}

/** `pat ARGS` run in the directory `cwd`, without --home: the home is what pat finds from there; `env` adds PATTERND_* variables. */
export function patIn(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runPat(args, cwd, env);
}

/**
 * `pat ARGS` in `cwd` left running (pat run): its output is collected as it
 * comes; stop it with a signal (pat forwards it to the daemon). Not killed
 * by the harness's cleanup, which would orphan the daemon: stop it in the test.
 */
export function spawnPat(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): DaemonProcess {
  return new DaemonProcess(cwd, spawn(process.execPath, [PAT, ...args], { cwd, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] }));
}

function runPat(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [PAT, ...args], { cwd, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** Is script(1) there to give the CLI a real terminal? */
export const hasScript = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0;

/**
 * `pat ARGS --home HOME` with stdout on a pseudo-terminal, as a person at a
 * shell runs it (stderr lands there too); `env` adds variables (NO_COLOR,
 * COLUMNS: the terminal of script(1) does not say how wide it is, so pat takes 80).
 */
export function patOnTerminal(home: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  const command = [process.execPath, PAT, ...args, "--home", home].map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(" ");
  const result = spawnSync("script", ["-qec", command, "/dev/null"], { cwd: ROOT, env: cleanEnv(env), encoding: "utf8", timeout: 20_000 });
  return { code: result.status, stdout: result.stdout.replaceAll("\r\n", "\n"), stderr: result.stderr };
}

export function json<T = Record<string, unknown>>(run: Run): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}
