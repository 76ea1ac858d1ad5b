/**
 * composition:select over the catalog: keeps the ranking index (pure, in
 * model/select.ts) in step with the catalog and hands it each pattern's
 * decision-log evidence. The index is built at start (build(): the first
 * select after a start would otherwise wait for it, a second at 10 000
 * patterns) and brought up to date when a query finds the catalog changed,
 * by comparing entries (a save replaces its entry object), so a query
 * after a save re-indexes only that pattern.
 *
 * Evidence is never guessed: when a log asked for is being indexed (the
 * first read after a start, or after a person's rewrite), the select waits
 * for it (indexing is sliced, so other requests are served meanwhile) and
 * ranks again with every log's counts as the file has them.
 */
import { SelectIndex, type SelectQuery, type SelectResult } from "../model/select.js";
import type { Catalog, Entry } from "./catalog.js";
import { DecisionLogs } from "./decision-log.js";

export class Selector {
  private readonly index = new SelectIndex();
  private readonly indexed = new Map<string, Entry>();
  private indexedRevision = -1;

  constructor(
    private readonly catalog: Catalog,
    private readonly decisions: DecisionLogs,
  ) {}

  async select(query: SelectQuery): Promise<SelectResult> {
    for (;;) {
      this.sync();
      const indexing = new Set<string>();
      const result = this.index.query(query, (name) => {
        const entry = this.catalog.get(name);
        if (entry === undefined) return undefined;
        const path = DecisionLogs.pathFor(entry.path);
        const evidence = this.decisions.evidenceNow(path);
        if (evidence === undefined) {
          indexing.add(path);
          return undefined;
        }
        const { successes, failures, total, mean_confidence } = evidence;
        return mean_confidence === null ? { successes, failures, total } : { successes, failures, total, mean_confidence };
      });
      if (indexing.size === 0) return result;
      await Promise.all([...indexing].map((path) => this.decisions.indexed(path)));
    }
  }

  /** Indexes every pattern the catalog holds now (at start, before the first request). */
  build(): void {
    this.sync();
  }

  private sync(): void {
    if (this.indexedRevision === this.catalog.revision) return;
    const present = new Set<string>();
    for (const entry of this.catalog.entries()) {
      present.add(entry.name);
      if (this.indexed.get(entry.name) === entry) continue;
      this.index.upsert({ name: entry.name, version: entry.version, type: entry.type, data: entry.data });
      this.indexed.set(entry.name, entry);
    }
    for (const name of this.indexed.keys()) {
      if (present.has(name)) continue;
      this.index.remove(name);
      this.indexed.delete(name);
    }
    this.indexedRevision = this.catalog.revision;
  }
}
