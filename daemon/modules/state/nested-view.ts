/**
 * The state as one nested object (pure), kept up to date key by key: what
 * emit conditions read (`{"var": "state.run_1.status"}`). A change costs the
 * depth of its key plus the keys under it, not the size of the state (issue
 * 22: the whole view was rebuilt on the first read after every change).
 *
 * The view is what sorting the keys and writing each one's value at its
 * dotted path gives:
 * - a key and a longer key under it (`run.status` and `run.status.code`):
 *   the longer one wins. Where the shorter one holds an object, the longer
 *   one is written into (a copy of) it; a scalar, list or null in its way
 *   becomes an object;
 * - deleting the longer key brings back what the shorter one holds there.
 *
 * It is updated in place: the object `current()` returns is valid for the
 * turn of the loop it was read in, and readers neither keep it across turns
 * nor change it (conditions are evaluated synchronously and keep only their
 * verdict). Stored values are shared with the view, never written into:
 * where a longer key has to be written into an object value, the view holds
 * a shallow copy of it.
 */

interface Node {
  /** True when a key ends at this node. */
  hasValue: boolean;
  value: unknown;
  /** Nodes of longer keys, by their next segment; a node without a key and without children is removed. */
  readonly children: Map<string, Node>;
  /**
   * The view's own object at this node, while it has children: its base
   * (its key's value, or what the shorter key above holds here) copied
   * when that is an object, with each child's view written into it.
   */
  overlay: Record<string, unknown> | null;
}

export class NestedView {
  /** The root always has an overlay: the view itself. */
  private readonly root: Node = { hasValue: false, value: undefined, children: new Map(), overlay: {} };

  static of(entries: ReadonlyMap<string, unknown>): NestedView {
    const view = new NestedView();
    for (const [key, value] of entries) view.set(key, value);
    return view;
  }

  /** The nested object; valid for this turn of the loop, read only. */
  current(): Record<string, unknown> {
    return this.root.overlay!;
  }

  set(key: string, value: unknown): void {
    const segments = key.split(".");
    const path = [this.root];
    for (const segment of segments) {
      const parent = path[path.length - 1]!;
      let child = parent.children.get(segment);
      if (child === undefined) {
        child = { hasValue: false, value: undefined, children: new Map(), overlay: null };
        parent.children.set(segment, child);
      }
      path.push(child);
    }
    const node = path[path.length - 1]!;
    node.hasValue = true;
    node.value = value;
    this.refresh(path, segments);
  }

  delete(key: string): void {
    const segments = key.split(".");
    const path = [this.root];
    for (const segment of segments) {
      const child = path[path.length - 1]!.children.get(segment);
      if (child === undefined) return;
      path.push(child);
    }
    const node = path[path.length - 1]!;
    if (!node.hasValue) return;
    node.hasValue = false;
    node.value = undefined;
    if (node.children.size > 0) return this.refresh(path, segments);
    // The node goes, and so does each node above it left with neither a key nor children.
    let depth = segments.length;
    while (depth > 1 && !path[depth - 1]!.hasValue && path[depth - 1]!.children.size === 1) depth--;
    const parent = path[depth - 1]!;
    const segment = segments[depth - 1]!;
    parent.children.delete(segment);
    if (parent.children.size === 0 && parent !== this.root) {
      // A key without longer keys under it any more: the view shows its own value there again.
      parent.overlay = null;
      path[depth - 2]!.overlay![segments[depth - 2]!] = parent.value;
      return;
    }
    // The parent's overlay stays the same object; only this segment goes back to what its base holds there.
    const base = basesAlong(path.slice(0, depth), segments).at(-1);
    if (isPlainObject(base) && Object.hasOwn(base, segment)) parent.overlay![segment] = base[segment];
    else delete parent.overlay![segment];
  }

  /**
   * Renders the last node of `path` (its value or children changed) and
   * writes its view into the overlay above it. That overlay is updated in
   * place, so nothing further up changes; a node above that had no children
   * until now (a new one, or a key that held only its value) gets an
   * overlay first, and its view is written further up in turn.
   */
  private refresh(path: readonly Node[], segments: readonly string[]): void {
    const bases = basesAlong(path, segments);
    let depth = path.length - 1;
    let view = render(path[depth]!, inheritedFrom(bases[depth - 1], segments[depth - 1]!));
    for (depth--; ; depth--) {
      const node = path[depth]!;
      const segment = segments[depth]!;
      if (node.overlay !== null) {
        node.overlay[segment] = view;
        return;
      }
      const base = bases[depth];
      node.overlay = isPlainObject(base) ? { ...base } : {};
      node.overlay[segment] = view;
      view = node.overlay;
    }
  }
}

/** Each node's base along `path` (the root's: undefined): its key's value, or what the key above holds there. */
function basesAlong(path: readonly Node[], segments: readonly string[]): unknown[] {
  const bases: unknown[] = [undefined];
  for (let depth = 1; depth < path.length; depth++) {
    const node = path[depth]!;
    bases.push(node.hasValue ? node.value : inheritedFrom(bases[depth - 1], segments[depth - 1]!));
  }
  return bases;
}

/** What a base holds at `segment`: a field of an object (own, never the prototype's), else nothing. */
function inheritedFrom(base: unknown, segment: string): unknown {
  return isPlainObject(base) && Object.hasOwn(base, segment) ? base[segment] : undefined;
}

/**
 * The view of `node` given what the key above holds there: its base when it
 * has no children; otherwise a new overlay, the base copied when it is an
 * object and each child's view written in. A child without a key of its own
 * is rendered again (what it inherits may have changed); a child with a key
 * does not depend on its base.
 */
function render(node: Node, inherited: unknown): unknown {
  const base = node.hasValue ? node.value : inherited;
  if (node.children.size === 0) {
    node.overlay = null;
    return base;
  }
  const overlay: Record<string, unknown> = isPlainObject(base) ? { ...base } : {};
  for (const [segment, child] of node.children) {
    overlay[segment] = child.hasValue ? (child.overlay ?? child.value) : render(child, inheritedFrom(base, segment));
  }
  node.overlay = overlay;
  return overlay;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
