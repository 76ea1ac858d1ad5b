/**
 * composition:select over the catalog: keeps the ranking index (pure, in
 * model/select.ts) in step with the catalog and hands it each pattern's
 * decision-log evidence. The index is built at start (build(): the first
 * select after a start would otherwise wait for it, a second at 10 000
 * patterns) and brought up to date when a query finds the catalog changed,
 * by comparing each entry's text (its blob id), so a query after a save
 * re-indexes only that pattern. The index is saved beside the index cache
 * (image, restore): a later start indexes only the patterns whose text
 * moved.
 *
 * Evidence is never guessed: when a log asked for is being indexed (the
 * first read after a start, or after a person's rewrite), the select waits
 * for it (indexing is sliced, so other requests are served meanwhile) and
 * ranks again with every log's counts as the file has them.
 */
import { createHash } from "node:crypto";
import { deserialize, serialize } from "node:v8";
import type { Meanings } from "../model/meanings.js";
import { SelectIndex, type SelectIndexState, type SelectQuery, type SelectResult } from "../model/select.js";
import type { Catalog } from "./catalog.js";
import { DecisionLogs } from "./decision-log.js";

const SHA1_BYTES = 20;

/** A saved index: the index's state, and the text (blob id) each pattern was indexed from. */
interface SavedIndex {
  format: 1;
  store: string;
  state: SelectIndexState;
  indexed: Map<string, string>;
}

export class Selector {
  private index: SelectIndex;
  /** name → the blob id of the text it was indexed from (an entry with another text is indexed again). */
  private indexed = new Map<string, string>();
  private indexedRevision = -1;

  constructor(
    private readonly catalog: Catalog,
    private readonly decisions: DecisionLogs,
    private readonly meanings: Meanings,
  ) {
    this.index = new SelectIndex(meanings);
  }

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
        const { successes, failures, total, mean_confidence, tasks } = evidence;
        return { successes, failures, total, ...(mean_confidence === null ? {} : { mean_confidence }), ...(tasks === undefined ? {} : { tasks }) };
      });
      if (indexing.size === 0) return result;
      await Promise.all([...indexing].map((path) => this.decisions.indexed(path)));
    }
  }

  /** Indexes every pattern the catalog holds now (at start, before the first request): only those the saved index (restore) did not have as they are. */
  build(): void {
    this.sync();
  }

  /**
   * The index brought up to date, as bytes to save: v8's serialization
   * (typed arrays and maps kept as they are), then its sha1, so that bytes
   * a crash or a disk left half written are never taken for an index.
   */
  image(store: string): Buffer[] {
    this.sync();
    const saved: SavedIndex = { format: 1, store, state: this.index.state(), indexed: this.indexed };
    const bytes = serialize(saved);
    return [bytes, createHash("sha1").update(bytes).digest()];
  }

  /** Takes an image() back, when it is whole and one of this store's by this code; false (nothing taken) otherwise. */
  restore(image: Buffer, store: string): boolean {
    const bytes = image.subarray(0, image.length - SHA1_BYTES);
    if (image.length <= SHA1_BYTES || !createHash("sha1").update(bytes).digest().equals(image.subarray(bytes.length))) return false;
    let saved: Partial<SavedIndex>;
    try {
      saved = deserialize(bytes) as Partial<SavedIndex>;
    } catch {
      return false;
    }
    if (saved.format !== 1 || saved.store !== store || !(saved.indexed instanceof Map) || saved.state === undefined) return false;
    let index: SelectIndex | null;
    try {
      index = SelectIndex.fromState(saved.state, this.meanings);
    } catch {
      return false;
    }
    if (index === null) return false;
    this.index = index;
    this.indexed = saved.indexed;
    this.indexedRevision = -1;
    return true;
  }

  private sync(): void {
    if (this.indexedRevision === this.catalog.revision) return;
    const present = new Set<string>();
    for (const entry of this.catalog.entries()) {
      present.add(entry.name);
      if (this.indexed.get(entry.name) === entry.textId) continue;
      this.index.upsert({ name: entry.name, version: entry.version, type: entry.type, data: entry.data });
      this.indexed.set(entry.name, entry.textId);
    }
    for (const name of this.indexed.keys()) {
      if (present.has(name)) continue;
      this.index.remove(name);
      this.indexed.delete(name);
    }
    this.indexedRevision = this.catalog.revision;
  }
}
