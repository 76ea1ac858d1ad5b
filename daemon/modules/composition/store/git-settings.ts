/**
 * The store's own git config, as the daemon acts on it (meaning in
 * git-config.ts): read at start, and again only when a config file
 * changed — each commit costs a stat of each file, not a process. A
 * repository format the writer does not implement, or signing that cannot
 * work, refuses every write (and the start) with a message naming the
 * setting.
 */
import { lstatSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { DaemonError } from "../../../core/errors.js";
import { formatProblem, signingProblem, StoreConfig, storeSettings, type StoreSettings } from "./git-config.js";
import type { StoreDirs } from "./git-dirs.js";
import { readConfigList } from "./git-process.js";

export class StoreGitSettings {
  private cached: { stamp: string; settings: StoreSettings | DaemonError } | null = null;

  /** `inTurn` runs work in the store's one-process-at-a-time queue. */
  constructor(
    private readonly dirs: StoreDirs,
    private readonly inTurn: <T>(work: () => Promise<T>) => Promise<T>,
  ) {}

  private get dir(): string {
    return this.dirs.workTree;
  }

  /** The settings as the config is now; throws store_refused when the store must not be written. */
  async current(): Promise<StoreSettings> {
    const dirs = this.gitDirs();
    const stamp = this.stamp(dirs);
    if (this.cached?.stamp !== stamp) this.cached = { stamp, settings: await this.inTurn(() => this.read(dirs)) };
    if (this.cached.settings instanceof DaemonError) throw this.cached.settings;
    return this.cached.settings;
  }

  private async read(dirs: { commonDir: string } | null): Promise<StoreSettings | DaemonError> {
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
  private stamp(dirs: { gitDir: string; commonDir: string } | null): string {
    if (dirs === null) return "none";
    return [dirs.gitDir, dirs.commonDir, ...[join(dirs.commonDir, "config"), join(dirs.gitDir, "config.worktree")]
      .map((file) => {
        const stat = lstatSync(file, { throwIfNoEntry: false });
        return stat === undefined ? "-" : `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
      })]
      .join("|");
  }

  /** The store's git folders (git-dirs.ts, resolved at start); null when there is no repository yet (the seed makes one). */
  private gitDirs(): { gitDir: string; commonDir: string } | null {
    if (lstatSync(this.dirs.gitDir, { throwIfNoEntry: false })?.isDirectory() !== true) return null;
    return { gitDir: this.dirs.gitDir, commonDir: this.dirs.commonDir };
  }
}
