/**
 * One term's posting list for select's index (pure): entry ids with a
 * 32-bit value each (select.ts packs a term's count per field into it),
 * in two growable typed arrays. A Map<number, number> per term cost ~40
 * bytes and ~2 µs per posting at 100 000 patterns (its hash tables
 * rehashed as they grew, and the garbage of that was most of an index
 * build); these cost 8 bytes and a store. Order is not kept: a removal
 * moves the last posting into the hole.
 */
export class PostingList {
  private ids: Int32Array = new Int32Array(4);
  private values: Uint32Array = new Uint32Array(4);
  private length = 0;

  get size(): number {
    return this.length;
  }

  /** Adds a posting for `id`, which must not have one (select.ts removes a pattern's postings before adding its new ones). */
  add(id: number, value: number): void {
    if (this.length === this.ids.length) {
      const ids = new Int32Array(this.length * 2);
      ids.set(this.ids);
      this.ids = ids;
      const values = new Uint32Array(this.length * 2);
      values.set(this.values);
      this.values = values;
    }
    this.ids[this.length] = id;
    this.values[this.length] = value;
    this.length++;
  }

  /** The value of `id`'s posting, undefined when it has none (a scan: asked only for the few candidates shown). */
  get(id: number): number | undefined {
    const at = this.ids.subarray(0, this.length).indexOf(id);
    return at === -1 ? undefined : this.values[at];
  }

  delete(id: number): void {
    const at = this.ids.subarray(0, this.length).indexOf(id);
    if (at === -1) return;
    this.length--;
    this.ids[at] = this.ids[this.length]!;
    this.values[at] = this.values[this.length]!;
    // A list that shrank to a quarter gives back its space.
    if (this.ids.length > 16 && this.length * 4 <= this.ids.length) {
      this.ids = this.ids.slice(0, this.ids.length / 2);
      this.values = this.values.slice(0, this.values.length / 2);
    }
  }

  /** The postings as two arrays of the same length, copies without the spare room (for saving the index). */
  arrays(): { ids: Int32Array; values: Uint32Array } {
    return { ids: this.ids.slice(0, this.length), values: this.values.slice(0, this.length) };
  }

  /** A list holding these postings (ids unique), as arrays() gave them. */
  static of(ids: Int32Array, values: Uint32Array): PostingList {
    if (ids.length !== values.length) throw new Error(`posting list: ${ids.length} ids, ${values.length} values`);
    const list = new PostingList();
    list.ids = ids.length === 0 ? new Int32Array(4) : ids;
    list.values = values.length === 0 ? new Uint32Array(4) : values;
    list.length = ids.length;
    return list;
  }

  forEach(visit: (value: number, id: number) => void): void {
    const { ids, values } = this;
    for (let i = 0; i < this.length; i++) visit(values[i]!, ids[i]!);
  }
}
