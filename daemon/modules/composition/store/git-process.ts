/**
 * Every process the store starts: git, and the store's own commit hooks.
 * git runs in a fixed environment — no user or system config, no ambient
 * GIT_* — so the store behaves the same for every user (SPEC §4.2). Two
 * things run with the user's environment instead, because they are the
 * store owner's programs or need the user's keys: the store's hooks, and
 * `git commit-tree -S` when the store's config asks for signed commits
 * (still without the user's git config: only the store's counts).
 */
import { execFile, spawn } from "node:child_process";
import { errnoInText } from "../../../core/disk-fault.js";

/**
 * Settings every git command runs with, whatever the repository's or the
 * user's config says. core.fsync: the objects git writes for the daemon
 * (the blobs of `git add`, a signed commit) are durable before the branch
 * names them, as the daemon's own are (git-commit.ts); git's default
 * leaves loose objects to the page cache. The batch method: one flush for
 * all of an add's objects.
 */
const CONFIG = [
  "commit.gpgsign=false",
  "tag.gpgsign=false",
  "core.hooksPath=/dev/null",
  "init.defaultBranch=main",
  "core.quotePath=false",
  "core.fsync=committed,derived-metadata",
  "core.fsyncMethod=batch",
].flatMap((c) => ["-c", c]);

/** The committer of every commit the daemon writes: how its own commits are told from a person's. */
export const DAEMON_EMAIL = "patternd@patternd";

/** The most of a hook's output kept (it goes into an error's details and the log). */
const HOOK_OUTPUT_MAX = 64 * 1024;

export function gitEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    // No ~/.gitconfig, no /etc/gitconfig, no ambient GIT_*: the store behaves the same for every user.
    HOME: "/nonexistent",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "patternd",
    GIT_AUTHOR_EMAIL: "patternd@patternd",
    GIT_COMMITTER_NAME: "patternd",
    GIT_COMMITTER_EMAIL: DAEMON_EMAIL,
  };
}

/**
 * The daemon's own environment without ambient GIT_* variables (a GIT_DIR
 * or GIT_INDEX_FILE left in the shell that started the daemon would point
 * a hook's git at another repository): what hooks and signing run with.
 */
export function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("GIT_")));
}

/** Runs one git command in the fixed environment, plus `env` (GIT_INDEX_FILE for a private index); its stdout. */
export function spawnGit(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("git", [...CONFIG, ...args], { cwd, env: { ...gitEnv(), ...env }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err === null) resolve(stdout);
      else reject(gitFailure(cwd, args, stderr.trim() || stdout.trim() || err.message));
    });
  });
}

/** Runs one git command with `input` on its stdin; stdout as bytes (a blob's size is counted in bytes). */
export function spawnGitWithInput(cwd: string, args: readonly string[], input: string, env: NodeJS.ProcessEnv = gitEnv()): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", [...CONFIG, ...args], { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(chunks));
      else reject(gitFailure(cwd, args, stderr.trim() || `exit ${code}`));
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
  });
}

/**
 * A config file's entries as `git config --list -z` prints them, with its
 * includes; `file` undefined: the repository's whole config (its own file
 * and a worktree's). Without the fixed settings above, which would show
 * up in the list as if the store had them. A missing file lists nothing.
 */
export function readConfigList(cwd: string, file: string | undefined): Promise<string> {
  const args = ["config", ...(file === undefined ? [] : ["--file", file]), "--includes", "--list", "-z"];
  return new Promise((resolve, reject) => {
    execFile("git", args, { cwd, env: gitEnv(), encoding: "utf8", maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err === null) resolve(stdout);
      else reject(new Error(`git config failed: ${stderr.trim() || err.message}`));
    });
  });
}

export interface Person {
  name: string;
  email: string;
}

/**
 * Writes a signed commit object with `git commit-tree -S` and returns its
 * id. git signs as the store's config says (gpg.format, user.signingkey,
 * gpg.program, ...), with the user's environment so gpg, its agent and
 * ssh-keygen find the user's keys (HOME, GNUPGHOME, SSH_AUTH_SOCK), but
 * not the user's git config: GIT_CONFIG_GLOBAL points nowhere.
 */
export async function commitTreeSigned(
  cwd: string,
  commit: { tree: string; parent: string | null; message: string; author: Person; committer: Person; date: string },
): Promise<string> {
  const env = {
    ...userEnv(),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_AUTHOR_NAME: commit.author.name,
    GIT_AUTHOR_EMAIL: commit.author.email,
    GIT_AUTHOR_DATE: commit.date,
    GIT_COMMITTER_NAME: commit.committer.name,
    GIT_COMMITTER_EMAIL: commit.committer.email,
    GIT_COMMITTER_DATE: commit.date,
  };
  const parent = commit.parent === null ? [] : ["-p", commit.parent];
  const id = (await spawnGitWithInput(cwd, ["commit-tree", "-S", commit.tree, ...parent], commit.message, env)).toString("utf8").trim();
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(id)) throw new Error(`git commit-tree failed: it printed ${id.slice(0, 80)}, not a commit id`);
  return id;
}

export interface HookRun {
  /** The exit code; null when the hook was killed (see `timedOut`) or could not start. */
  code: number | null;
  timedOut: boolean;
  /** stdout and stderr as they came, at most HOOK_OUTPUT_MAX bytes. */
  output: string;
}

/**
 * Runs one hook as git does: in `cwd` (the work tree), no stdin, stdout
 * and stderr together. Done when the hook exits, not when its output
 * closes (a hook that leaves a job running in the background does not hold
 * the store). A hook still running after `timeoutMs` is killed, with all
 * it started (it runs in its own process group).
 */
export function spawnHook(path: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<HookRun> {
  return new Promise((resolve) => {
    const child = spawn(path, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = (chunk: Buffer) => {
      if (size >= HOOK_OUTPUT_MAX) return;
      chunks.push(chunk.subarray(0, HOOK_OUTPUT_MAX - size));
      size += chunk.length;
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    let finished = false;
    const done = (code: number | null, error?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      // What the hook wrote just before it exited may still be in the pipes: a moment to read it.
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        const output = Buffer.concat(chunks).toString("utf8") + (error === undefined ? "" : `${error.message}\n`);
        resolve({ code, timedOut, output });
      }, 20);
    };
    child.once("error", (err) => done(null, err));
    child.once("exit", (code) => done(code));
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/**
 * git's failure as an Error; one that says the disk could not take a write
 * (git prints no errno) carries it as its `code` and the store as its
 * `path`, as a failed write of ours would (disk-fault.ts).
 */
function gitFailure(cwd: string, args: readonly string[], output: string): Error {
  const err: Error & { code?: string; path?: string } = new Error(`git ${args[0]} failed: ${output}`);
  const code = errnoInText(output);
  if (code !== undefined) Object.assign(err, { code, path: cwd });
  return err;
}

/**
 * Runs a git command that talks to a remote (fetch, push, ls-remote): the
 * fixed settings, plus what reaching a remote needs of the user's world —
 * HOME for ssh's keys and known_hosts, the ssh agent — but still none of
 * the user's git config (GIT_CONFIG_GLOBAL points nowhere). Never a prompt
 * (a daemon has no terminal: a missing credential fails at once), never the
 * ext:: or fd:: transports (they run commands), and a remote that does not
 * answer is given up after `timeoutMs`.
 */
export function spawnGitRemote(cwd: string, args: readonly string[], timeoutMs: number): Promise<string> {
  const user = process.env;
  const env: NodeJS.ProcessEnv = {
    ...gitEnv(),
    ...(user.HOME === undefined ? {} : { HOME: user.HOME }),
    ...(user.SSH_AUTH_SOCK === undefined ? {} : { SSH_AUTH_SOCK: user.SSH_AUTH_SOCK }),
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_SSH_COMMAND: "ssh -o BatchMode=yes",
  };
  const safe = ["protocol.ext.allow=never", "protocol.fd.allow=never"].flatMap((c) => ["-c", c]);
  return new Promise((resolve, reject) => {
    execFile("git", [...CONFIG, ...safe, ...args], { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs, killSignal: "SIGKILL" }, (err, stdout, stderr) => {
      if (err === null) resolve(stdout);
      else reject(gitFailure(cwd, args, stderr.trim() || stdout.trim() || (err.killed ? `no answer in ${timeoutMs / 1000} s` : err.message)));
    });
  });
}
