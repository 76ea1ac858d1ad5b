/**
 * composition:discover over the catalog. Between two changes of the
 * catalog the same list of patterns is searched again and again, so the
 * values of the paths queries filter on (tags, performance.avg_score, ...,
 * and the paths a `where` rule reads) are kept as columns of that list, and
 * their search texts as one string: reading a path from ten thousand
 * differently shaped documents is most of a query's time. Any change to
 * the catalog starts afresh.
 */
import { readPath } from "../../../core/json-logic.js";
import { discover, lookup, searchIndex, type DiscoverQuery, type DiscoverResult, type SearchIndex } from "../model/discover.js";
import type { Catalog, Entry } from "./catalog.js";

/** Columns kept per catalog state: each is one slot per pattern. */
const MAX_COLUMNS = 64;

export class Finder {
  private entries: Entry[] = [];
  private readonly columns = new Map<string, unknown[]>();
  private texts: SearchIndex | null = null;
  private revision = -1;

  constructor(private readonly catalog: Catalog) {}

  discover(query: DiscoverQuery): DiscoverResult {
    if (this.revision !== this.catalog.revision) {
      this.entries = [...this.catalog.entries()];
      this.columns.clear();
      this.texts = null;
      this.revision = this.catalog.revision;
    }
    return discover(this.entries, query, {
      of: (segments) => this.column(segments.join("."), (data) => lookup(data, segments)),
      exact: (segments) => this.column(`=${segments.join(".")}`, (data) => readPath(data, segments)),
      texts: () => (this.texts ??= searchIndex(this.entries)),
    });
  }

  private column(key: string, read: (data: Record<string, unknown>) => unknown): unknown[] {
    let column = this.columns.get(key);
    if (column === undefined) {
      column = this.entries.map((entry) => read(entry.data));
      if (this.columns.size < MAX_COLUMNS) this.columns.set(key, column);
    }
    return column;
  }
}
