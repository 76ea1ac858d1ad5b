/**
 * A `git` placed first on the daemon's PATH that stops before running the
 * real one for chosen subcommands, so a test can act inside a window that
 * is otherwise a few milliseconds wide (a person's `git commit` between the
 * daemon's `git add` and its ref update, a kill -9 after an add). The
 * daemon's own `-c key=value` options are skipped to find the subcommand.
 *
 *   const wrapper = await GitWrapper.create();
 *   const daemon = await startDaemon({ env: wrapper.env() });
 *   wrapper.pauseOn("add");            // the next `git add` waits
 *   const save = client.request(...);   // not awaited
 *   await wrapper.paused();             // the daemon is inside the window
 *   ...                                 // act
 *   wrapper.release();                  // the add runs; later ones run at once
 *
 * `pauseAfter("add")` opens the window after the command instead: it runs,
 * then waits for release() before it exits.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./harness.js";

const REAL_GIT = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();

const SCRIPT = `#!/bin/sh
# test wrapper: pause before the real git for the subcommands listed in $dir/pause-on
dir="$(dirname "$0")"
sub=""
skip=0
for arg in "$@"; do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case "$arg" in
    -c|-C) skip=1 ;;
    -*) ;;
    *) sub="$arg"; break ;;
  esac
done
if [ -n "$sub" ] && [ -f "$dir/pause-on" ] && grep -qx "$sub" "$dir/pause-on"; then
  n="$$"
  echo "$*" > "$dir/paused.$n"
  while [ ! -f "$dir/go" ]; do sleep 0.01; done
  rm -f "$dir/paused.$n"
fi
if [ -n "$sub" ] && [ -f "$dir/pause-after" ] && grep -qx "$sub" "$dir/pause-after"; then
  "${REAL_GIT}" "$@"
  rc=$?
  n="$$"
  echo "$*" > "$dir/paused.$n"
  while [ ! -f "$dir/go" ]; do sleep 0.01; done
  rm -f "$dir/paused.$n"
  exit $rc
fi
exec "${REAL_GIT}" "$@"
`;

export class GitWrapper {
  private constructor(readonly dir: string) {}

  static async create(): Promise<GitWrapper> {
    const dir = await mkdtemp(join(tmpdir(), "patternd-git-wrapper-"));
    await writeFile(join(dir, "git"), SCRIPT);
    await chmod(join(dir, "git"), 0o755);
    return new GitWrapper(dir);
  }

  /** The environment for the daemon: this wrapper first on PATH. */
  env(): NodeJS.ProcessEnv {
    return { PATH: `${this.dir}:${process.env.PATH ?? "/usr/bin:/bin"}` };
  }

  /** From now on, `git <subcommand>` (each of them) waits until release(). */
  async pauseOn(...subcommands: string[]): Promise<void> {
    await rm(join(this.dir, "go"), { force: true });
    await writeFile(join(this.dir, "pause-on"), `${subcommands.join("\n")}\n`);
  }

  /** Resolves with the paused command's arguments once a git process waits in the wrapper. */
  async paused(timeoutMs = 10_000): Promise<string> {
    const file = await waitFor(
      "a git command paused in the wrapper",
      async () => (await readdir(this.dir)).find((name) => name.startsWith("paused.")),
      timeoutMs,
    );
    return (await readFile(join(this.dir, file), "utf8").catch(() => "")).trim();
  }

  /**
   * From now on, `git <subcommand>` runs, then waits until release() before
   * it exits: the window after it (a person's commit after the daemon's
   * `git add` and before its ref update).
   */
  async pauseAfter(...subcommands: string[]): Promise<void> {
    await rm(join(this.dir, "go"), { force: true });
    await writeFile(join(this.dir, "pause-after"), `${subcommands.join("\n")}\n`);
  }

  /** Lets every waiting git command run (or exit), and later ones run without waiting. */
  async release(): Promise<void> {
    await writeFile(join(this.dir, "pause-after"), "");
    await writeFile(join(this.dir, "pause-on"), "");
    await writeFile(join(this.dir, "go"), "");
  }

  /** True while a git command waits in the wrapper. */
  async waiting(): Promise<boolean> {
    return (await readdir(this.dir)).some((name) => name.startsWith("paused.")) && !existsSync(join(this.dir, "go"));
  }

  async remove(): Promise<void> {
    await this.release();
    await rm(this.dir, { recursive: true, force: true });
  }
}
