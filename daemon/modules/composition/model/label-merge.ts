/**
 * A 3-way merge of labels.yaml by key (issue 17), pure, for syncing two
 * stores: each pattern's label is taken from the side that moved it. Both
 * sides moving the same label differently (or one moving it while the
 * other removed it) is a conflict, named by pattern and label; a label
 * both moved the same way is no conflict. Whether a label is protected is
 * part of what is compared.
 */
import { deepEqual } from "./document.js";
import type { LabelBook, Label } from "./labels.js";

export interface LabelConflict {
  name: string;
  label: string;
  /** Each side's label; null where that side has none. */
  base: Label | null;
  ours: Label | null;
  theirs: Label | null;
}

export interface LabelMerge {
  /** Ours' order, then labels only theirs added; where there is a conflict, ours' label stays. */
  merged: LabelBook;
  conflicts: LabelConflict[];
}

export function mergeLabels(base: LabelBook, ours: LabelBook, theirs: LabelBook): LabelMerge {
  const key = (l: Label) => `${l.name}@${l.label}`;
  const index = (book: LabelBook) => new Map(book.map((l) => [key(l), l]));
  const [b, o, t] = [index(base), index(ours), index(theirs)];
  const keys = [...new Set([...o.keys(), ...t.keys(), ...b.keys()])];
  const merged: LabelBook = [];
  const conflicts: LabelConflict[] = [];
  for (const k of keys) {
    const [was, mine, their] = [b.get(k) ?? null, o.get(k) ?? null, t.get(k) ?? null];
    let kept: Label | null;
    if (deepEqual(mine, their)) kept = mine;
    else if (deepEqual(was, mine)) kept = their;
    else if (deepEqual(was, their)) kept = mine;
    else {
      const { name, label } = (mine ?? their ?? was)!;
      conflicts.push({ name, label, base: was, ours: mine, theirs: their });
      kept = mine;
    }
    if (kept !== null) merged.push(kept);
  }
  return { merged, conflicts };
}
