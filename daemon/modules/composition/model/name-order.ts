/**
 * A Map from name to value that also keeps its names in order, overall and
 * per group (a pattern's type), so that a page of names after a given one is
 * a binary search and a slice, whatever the size of the map (pure).
 *
 * A view is sorted once, when first asked for; after that, each name added
 * or removed is noted and put in its place (or taken out) with a binary
 * search when the view is next read. A burst of changes larger than
 * REBUILD_AFTER (a checkout, a store taken in again) is cheaper as one sort
 * of the whole view than as that many insertions, so the view is then
 * sorted again from scratch. Names compare by UTF-16 code units, as `<` does.
 */

/** Noted changes beyond which a view is sorted again rather than patched (each patch moves up to n references). */
const REBUILD_AFTER = 256;

export interface NamePage<V> {
  values: V[];
  /** More names come after the last one in values. */
  more: boolean;
  /** Names in the view (all of them, not only after the cursor). */
  total: number;
}

export class NameOrderedMap<V> extends Map<string, V> {
  private readonly all = new SortedView();
  private readonly groups = new Map<string, SortedView>();

  /** groupOf: the group a value is listed under (undefined: no grouped views). */
  constructor(private readonly groupOf: (value: V) => string = () => "") {
    super();
  }

  override set(key: string, value: V): this {
    const before = super.get(key);
    if (before === undefined) {
      this.all.note(key);
      this.groups.get(this.groupOf(value))?.note(key);
    } else if (this.groupOf(before) !== this.groupOf(value)) {
      this.groups.get(this.groupOf(before))?.note(key);
      this.groups.get(this.groupOf(value))?.note(key);
    }
    return super.set(key, value);
  }

  override delete(key: string): boolean {
    const before = super.get(key);
    if (before === undefined) return false;
    this.all.note(key);
    this.groups.get(this.groupOf(before))?.note(key);
    return super.delete(key);
  }

  override clear(): void {
    this.all.reset();
    this.groups.clear();
    super.clear();
  }

  /** The names in order, of one group or of all. */
  names(group?: string): readonly string[] {
    if (group === undefined) return this.all.current(() => [...super.keys()], (name) => super.has(name));
    let view = this.groups.get(group);
    if (view === undefined) {
      view = new SortedView();
      this.groups.set(group, view);
    }
    const inGroup = (name: string) => {
      const value = super.get(name);
      return value !== undefined && this.groupOf(value) === group;
    };
    return view.current(() => [...super.keys()].filter(inGroup), inGroup);
  }

  /**
   * Up to `limit` values whose names come after `after` (from the first when undefined), in name
   * order; with `prefix`, only names that start with it (total counts those).
   */
  page(limit: number, after?: string, group?: string, prefix = ""): NamePage<V> {
    const names = this.names(group);
    // The names starting with prefix are one run in sorted order: from the first ≥ prefix to the first ≥ prefix + U+FFFF.
    const first = prefix === "" ? 0 : firstAtOrAfter(names, prefix);
    const stop = prefix === "" ? names.length : firstAtOrAfter(names, `${prefix}\uffff`);
    const start = after === undefined ? first : Math.max(first, firstAfter(names, after));
    const end = Math.min(stop, start + limit);
    const values: V[] = [];
    for (let i = start; i < end; i++) values.push(super.get(names[i]!)!);
    return { values, more: end < stop, total: stop - first };
  }
}

/** One ordered list of names, brought up to date when read. */
class SortedView {
  /** null: not sorted yet (or too much changed): sorted from scratch when next read. */
  private order: string[] | null = null;
  /** Names added or removed since the order was last brought up to date. */
  private readonly moved = new Set<string>();

  note(name: string): void {
    if (this.order === null) return;
    this.moved.add(name);
    if (this.moved.size > REBUILD_AFTER) this.reset();
  }

  reset(): void {
    this.order = null;
    this.moved.clear();
  }

  current(members: () => string[], isMember: (name: string) => boolean): readonly string[] {
    if (this.order === null) {
      this.order = members().sort();
      return this.order;
    }
    for (const name of this.moved) {
      const at = firstAtOrAfter(this.order, name);
      const listed = this.order[at] === name;
      if (isMember(name) && !listed) this.order.splice(at, 0, name);
      else if (!isMember(name) && listed) this.order.splice(at, 1);
    }
    this.moved.clear();
    return this.order;
  }
}

/** The index of the first name ≥ `name` in sorted names. */
export function firstAtOrAfter(names: readonly string[], name: string): number {
  let low = 0;
  let high = names.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (names[mid]! < name) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The index of the first name > `name` in sorted names. */
export function firstAfter(names: readonly string[], name: string): number {
  const at = firstAtOrAfter(names, name);
  return names[at] === name ? at + 1 : at;
}
