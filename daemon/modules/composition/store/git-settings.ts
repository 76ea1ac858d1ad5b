/**
 * The store's own git config, as the daemon acts on it (meaning in
 * git-config.ts): read at start, and again only when a config file
 * changed — each commit costs a stat of each file, not a process. A
 * repository format the writer does not implement, or signing that cannot
 * work, refuses every write (and the start) with a message naming the
 * setting.
 */
import { lstatSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { DaemonError } from "../../../core/errors.js";
import { formatProblem, signingProblem, StoreConfig, storeSettings, type StoreSettings } from "./git-config.js";
import { readConfigList } from "./git-process.js";

/** Where a store's repository lives: `.git` itself (a `.git` file, pointing elsewhere, is refused for now: gitDirs). */
interface GitDirs {
  /** This work tree's own folder (HEAD, index, config.worktree). */
  gitDir: string;
  /** The repository's shared folder (config, objects, refs, hooks). */
  commonDir: string;
}

export class StoreGitSettings {
  private cached: { stamp: string; settings: StoreSettings | DaemonError } | null = null;

  /** `inTurn` runs work in the store's one-process-at-a-time queue. */
  constructor(
    private readonly dir: string,
    private readonly inTurn: <T>(work: () => Promise<T>) => Promise<T>,
  ) {}

  /** The settings as the config is now; throws store_refused when the store must not be written. */
  async current(): Promise<StoreSettings> {
    const dirs = this.gitDirs();
    const stamp = this.stamp(dirs);
    if (this.cached?.stamp !== stamp) this.cached = { stamp, settings: await this.inTurn(() => this.read(dirs)) };
    if (this.cached.settings instanceof DaemonError) throw this.cached.settings;
    return this.cached.settings;
  }

  private async read(dirs: GitDirs | null): Promise<StoreSettings | DaemonError> {
    if (dirs === null) return storeSettings(StoreConfig.empty(), { workTree: this.dir, gitDir: join(this.dir, ".git"), home: homedir() });
    // The format is read from the shared config file alone, as git does; git itself refuses a
    // repository whose format it does not know, so the whole config is asked only after.
    const file = join(dirs.commonDir, "config");
    const common = lstatSync(file, { throwIfNoEntry: false }) === undefined ? StoreConfig.empty() : StoreConfig.parse(await readConfigList(this.dir, file));
    const format = formatProblem(common, this.dir);
    if (format !== null) return new DaemonError("store_refused", format, { store: this.dir });
    const config = StoreConfig.parse(await readConfigList(this.dir, undefined));
    const signing = signingProblem(config, this.dir);
    if (signing !== null) return new DaemonError("store_refused", signing, { store: this.dir, setting: "commit.gpgsign" });
    return storeSettings(config, { workTree: this.dir, gitDir: dirs.commonDir, home: homedir() });
  }

  /** What changes when a config file is rewritten (git writes a new file and renames it over the old). */
  private stamp(dirs: GitDirs | null): string {
    if (dirs === null) return "none";
    return [join(dirs.commonDir, "config"), join(dirs.gitDir, "config.worktree")]
      .map((file) => {
        const stat = lstatSync(file, { throwIfNoEntry: false });
        return stat === undefined ? "-" : `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
      })
      .join("|");
  }

  /**
   * The store's git folders; null when there is no `.git` yet (the seed
   * makes one). A `.git` that is a file (a submodule, a linked worktree,
   * `git init --separate-git-dir`) is refused with store_refused: the
   * daemon writes objects, refs and its own files under `<store>/.git`,
   * which such a store does not have (it crashed with ENOTDIR). Support is
   * for a later issue; until then the message says what works.
   */
  private gitDirs(): GitDirs | null {
    const dotGit = join(this.dir, ".git");
    const stat = lstatSync(dotGit, { throwIfNoEntry: false });
    if (stat === undefined) return null;
    if (stat.isDirectory()) return { gitDir: dotGit, commonDir: dotGit };
    throw new DaemonError("store_refused", notSupportedYet(this.dir, stat.isFile() ? readFileSync(dotGit, "utf8") : null), { store: this.dir, path: dotGit });
  }
}

/** The one line for a store whose .git is no folder. */
function notSupportedYet(store: string, dotGitFile: string | null): string {
  const pointed = dotGitFile === null ? undefined : /^gitdir: (.+)$/m.exec(dotGitFile)?.[1]?.trim();
  const what = dotGitFile === null ? "is not a folder" : `is a file${pointed === undefined ? "" : ` pointing at ${resolve(store, pointed)}`}`;
  return (
    `${store}/.git ${what} (a submodule, a linked worktree or a --separate-git-dir repository): such a store is not supported yet; ` +
    `use a plain clone, whose .git is a folder (\`git clone <repository> ${store}\`)`
  );
}
