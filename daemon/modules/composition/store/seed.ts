/**
 * First start: an empty or missing store becomes a git repository holding
 * the bundled starter library, in one `Op: seed` commit with a
 * `<name>@<version>` tag per pattern. A store that already is a
 * repository is used as it is.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { DaemonError } from "../../../core/errors.js";
import type { Log } from "../../../core/log.js";
import { formatCommitMessage } from "../model/trailers.js";
import { DECISIONS_SUFFIX } from "../model/ref.js";
import { typeDirectory } from "../model/schema.js";
import { Catalog } from "./catalog.js";
import type { StoreFiles } from "./files.js";
import type { GitRepo } from "./git.js";


/** Returns how many patterns were seeded (0 when the store already existed). */
export async function seedStore(git: GitRepo, files: StoreFiles, bundled: readonly string[], log: Log): Promise<number> {
  if (await git.isRepository()) return 0;
  const existing = await readdir(files.root).catch(() => [] as string[]);
  if (existing.length > 0) {
    throw new DaemonError("conflict", `${files.root} is not empty and not a git repository; point --store at an empty directory or a pattern repository`);
  }
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
  if (written.length === 0) return 0;
  const patterns = written.filter((w) => w.name !== "");
  const commit = await git.commitPaths(
    written.map((w) => w.path),
    formatCommitMessage({ subject: `seed: ${patterns.length} starter patterns`, trailers: { Op: "seed", Patterns: String(patterns.length) } }),
    undefined,
  );
  await git.tagAll(
    patterns.map(({ name, version }) => `${name}@${version}`),
    commit,
  );
  log.info({ patterns: patterns.length, store: files.root }, "store seeded");
  return patterns.length;
}
