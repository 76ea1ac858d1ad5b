/**
 * composition:select over the catalog: keeps the ranking index (pure, in
 * model/select.ts) in step with the catalog and hands it each pattern's
 * decision-log evidence. The index is brought up to date when a query
 * finds the catalog changed, by comparing entries (a save replaces its
 * entry object), so start-up pays nothing and a query after a save
 * re-indexes only that pattern.
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

  select(query: SelectQuery): SelectResult {
    this.sync();
    return this.index.query(query, (name) => {
      const entry = this.catalog.get(name);
      if (entry === undefined) return undefined;
      const { successes, failures, total, mean_confidence } = this.decisions.evidence(DecisionLogs.pathFor(entry.path));
      return mean_confidence === null ? { successes, failures, total } : { successes, failures, total, mean_confidence };
    });
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
