/**
 * First start: an empty or missing store becomes a git repository holding
 * the bundled starter library, in one `Op: seed` commit with a
 * `<name>@<version>` tag per pattern. A store that already is a
 * repository is used as it is.
 *
 * Crash-safe (issue 24): an intent marker is written into `.git` before
 * `git init` and removed only once the seed is committed and every tag
 * made. A start that finds it finishes the seed, whatever step the killed
 * one reached: the files are written again (the same bytes), the commit is
 * made unless HEAD already is the seed, and only missing tags are made.
 */
import { lstatSync, mkdirSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { DaemonError } from "../../../core/errors.js";
import type { Log } from "../../../core/log.js";
import { formatCommitMessage, parseTrailers } from "../model/trailers.js";
import { DECISIONS_SUFFIX } from "../model/ref.js";
import { typeDirectory } from "../model/schema.js";
import { Catalog } from "./catalog.js";
import type { StoreFiles } from "./files.js";
import type { GitRepo } from "./git.js";
import { isNothingToCommit } from "./start-recovery.js";

/** In the store's .git while a seed is under way (never tracked: git does not look at it). */
export const SEED_MARKER = "patternd-seeding";

/** Returns how many patterns were seeded (0 when the store already existed). */
export async function seedStore(git: GitRepo, files: StoreFiles, bundled: readonly string[], log: Log): Promise<number> {
  const resuming = seedUnderWay(git, files.root);
  if (!resuming) {
    if (await git.isRepository()) return 0;
    const existing = await readdir(files.root).catch(() => [] as string[]);
    if (existing.length > 0) {
      throw new DaemonError("conflict", `${files.root} is not empty and not a git repository; point --store at an empty directory or a pattern repository`);
    }
    // Before `git init`: from here on, a crash at any point leaves the marker for the next start.
    mkdirSync(join(files.root, ".git"), { recursive: true });
    git.writeOwnFile(SEED_MARKER, "patternd is seeding this store; the next start finishes the seed while this file is here\n");
  } else {
    log.warn({ store: files.root }, "a first-start seed was cut short (the daemon was stopped or killed); finishing it");
  }
  // Running it again over a repository it made is harmless (git says "Reinitialized").
  await git.init();
  const written: { path: string; name: string; version: string }[] = [];
  const decisionLogs: { file: string; text: string }[] = [];
  for (const folder of bundled) {
    for (const file of (await readdir(folder).catch(() => [] as string[])).filter((f) => f.endsWith(".yaml")).sort()) {
      const text = await readFile(join(folder, file), "utf8");
      if (file.slice(0, -5).endsWith(DECISIONS_SUFFIX)) {
        decisionLogs.push({ file, text });
        continue;
      }
      const type = /^type:\s*([a-z][a-z0-9_-]*)\s*$/m.exec(text)?.[1] ?? "orchestration";
      const path = `${typeDirectory(type)}/${file}`;
      const result = Catalog.read(path, text);
      // A bundled starter is held to every rule: a data fault a stored file may keep (a name other than its file) is a packaging mistake here.
      const issues = !result.ok ? result.issues : result.entry.warnings;
      if (!result.ok || issues.length > 0) {
        log.error({ file: join(folder, file), issues }, "bundled composition is invalid; not seeded");
        continue;
      }
      await files.write(path, text);
      written.push({ path, name: result.entry.name, version: result.entry.version });
    }
  }
  for (const { file, text } of decisionLogs) {
    const pattern = written.find((w) => `${w.name}${DECISIONS_SUFFIX}.yaml` === file);
    const path = pattern === undefined ? `orchestrations/${file}` : pattern.path.replace(/[^/]+$/, file);
    await files.write(path, text);
    written.push({ path, name: "", version: "" });
  }
  if (written.length > 0) {
    const patterns = written.filter((w) => w.name !== "");
    const commit = await seedCommit(git, written.map((w) => w.path), patterns.length);
    // Only the tags a cut-short seed did not make yet.
    const missing = patterns.map(({ name, version }) => `${name}@${version}`).filter((tag) => !git.tagExists(tag));
    await git.tagAll(missing, commit);
    log.info({ patterns: patterns.length, store: files.root, resumed: resuming }, "store seeded");
  }
  git.removeOwnFile(SEED_MARKER);
  return written.filter((w) => w.name !== "").length;
}

/** True when a seed was started and not finished (the marker is there). */
function seedUnderWay(git: GitRepo, root: string): boolean {
  // A missing .git (or store) holds no marker; readOwnFile refuses a .git that is no folder, which the caller's settings check has refused already.
  if (lstatSync(join(root, ".git"), { throwIfNoEntry: false })?.isDirectory() !== true) return false;
  return git.readOwnFile(SEED_MARKER) !== undefined;
}

/** The seed commit: HEAD when a cut-short seed already made it, else a new one. */
async function seedCommit(git: GitRepo, paths: string[], patterns: number): Promise<string> {
  const head = await git.headCommit();
  if (head !== null && parseTrailers(head.message).Op === "seed") return head.commit;
  const message = formatCommitMessage({ subject: `seed: ${patterns} starter patterns`, trailers: { Op: "seed", Patterns: String(patterns) } });
  try {
    return await git.commitPaths(paths, message, undefined);
  } catch (err) {
    // The files are what HEAD holds already: the seed is there.
    if (!isNothingToCommit(err) || head === null) throw err;
    return head.commit;
  }
}
