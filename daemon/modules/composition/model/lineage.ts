/**
 * The family of a pattern (SPEC §3 composition:lineage): who it was forked
 * from, and what was forked from it, as a graph and as text (pure).
 *
 * A fork is recorded twice — `lineage.parent` in the child, the child's
 * name in the parent's `forks` — and either record may be stale (a file
 * edited by hand, a fork deleted), so a child is the union of both. Going
 * up, a child's own `lineage.parent` wins; the parent's `forks` list is the
 * fallback. A pattern named by either record but no longer in the store is
 * a node marked `missing`. Walks stop at a pattern already seen, so a cycle
 * ends instead of looping; the tree marks where it closed.
 */
import { DaemonError } from "../../../core/errors.js";
import { parseRef } from "./ref.js";

/** One pattern of the store as lineage needs it. */
export interface LineageInput {
  name: string;
  version: string;
  /** `lineage.parent`, a `name@version` ref. */
  parent?: string;
  /** The `forks` list: children's names. */
  forks?: string[];
}

export type LineageDirection = "up" | "down" | "both";

export interface LineageNode {
  name: string;
  /** Absent for a missing pattern. */
  version?: string;
  parent?: string;
  /** The parent's version the fork was taken from, when `lineage.parent` says. */
  parent_version?: string;
  missing?: true;
}

export interface LineageEdge {
  from: string;
  to: string;
  parent_version?: string;
}

export interface LineageGraph {
  /** The pattern asked about. */
  pattern: string;
  direction: LineageDirection;
  /** The top-most pattern shown: the farthest ancestor, or `pattern` itself. */
  root: string;
  /** Nearest first. */
  ancestors: string[];
  /** Breadth-first. */
  descendants: string[];
  /** Root to pattern, then the descendants, each once. */
  nodes: LineageNode[];
  /** Parent to child, between nodes of the graph. */
  edges: LineageEdge[];
}

export function buildLineage(patterns: readonly LineageInput[], name: string, direction: LineageDirection): LineageGraph {
  const byName = new Map(patterns.map((p) => [p.name, p]));
  if (!byName.has(name)) throw new DaemonError("not_found", `no composition ${name}`, { name });
  const claimedParent = (child: string) => {
    const ref = byName.get(child)?.parent;
    return ref === undefined ? undefined : parseRef(ref);
  };
  // Indexed in name order, so neither the store's listing order nor a stale record decides what is shown.
  const claimants = new Map<string, string[]>();
  const firstLister = new Map<string, string>();
  for (const p of [...patterns].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))) {
    const parent = claimedParent(p.name)?.name;
    if (parent !== undefined) claimants.set(parent, [...(claimants.get(parent) ?? []), p.name]);
    for (const child of p.forks ?? []) if (!firstLister.has(child)) firstLister.set(child, p.name);
  }
  const parentOf = (child: string) => claimedParent(child)?.name ?? firstLister.get(child);
  const childrenOf = (parent: string) => [...new Set([...(byName.get(parent)?.forks ?? []), ...(claimants.get(parent) ?? [])])];

  const ancestors: string[] = [];
  if (direction !== "down") {
    const seen = new Set([name]);
    for (let parent = parentOf(name); parent !== undefined && !seen.has(parent); parent = parentOf(parent)) {
      seen.add(parent);
      ancestors.push(parent);
    }
  }
  const descendants: string[] = [];
  if (direction !== "up") {
    const seen = new Set([name]);
    for (let i = -1; i < descendants.length; i++) {
      for (const child of childrenOf(i === -1 ? name : descendants[i]!)) {
        if (seen.has(child)) continue;
        seen.add(child);
        descendants.push(child);
      }
    }
  }

  const names = [...new Set([...[...ancestors].reverse(), name, ...descendants])];
  const inGraph = new Set(names);
  const nodes = names.map((n): LineageNode => {
    const pattern = byName.get(n);
    if (pattern === undefined) return { name: n, missing: true };
    const node: LineageNode = { name: n, version: pattern.version };
    const parent = parentOf(n);
    if (parent !== undefined) node.parent = parent;
    const version = claimedParent(n)?.version;
    if (version !== undefined) node.parent_version = version;
    return node;
  });
  const edges: LineageEdge[] = [];
  for (const from of names) {
    for (const to of childrenOf(from)) {
      if (!inGraph.has(to)) continue;
      const claimed = claimedParent(to);
      edges.push(claimed?.name === from && claimed.version !== undefined ? { from, to, parent_version: claimed.version } : { from, to });
    }
  }
  return { pattern: name, direction, root: names[0]!, ancestors, descendants, nodes, edges };
}

/**
 * An indented tree from the root, one `name@version` a line, the pattern
 * asked about marked `*`. A pattern reached a second time is not expanded
 * again: `(cycle)` when it closes a loop, `(see above)` otherwise.
 */
export function renderTree(graph: LineageGraph): string {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const lines: string[] = [];
  const shown = new Set<string>();
  const visit = (name: string, lead: string, branch: string, path: string[]) => {
    const node = byName.get(name) ?? { name, missing: true };
    let label = `${branch}${labelOf(node)}${name === graph.pattern ? " *" : ""}`;
    if (path.includes(name)) label += " (cycle)";
    else if (shown.has(name)) label += " (see above)";
    lines.push(label);
    if (path.includes(name) || shown.has(name)) return;
    shown.add(name);
    const children = graph.edges.filter((e) => e.from === name).map((e) => e.to);
    children.forEach((child, i) => {
      const last = i === children.length - 1;
      visit(child, lead + (last ? "    " : "│   "), lead + (last ? "└── " : "├── "), [...path, name]);
    });
  };
  visit(graph.root, "", "", []);
  return `${lines.join("\n")}\n`;
}

/** Mermaid flowchart source; the pattern asked about is drawn bold, missing ones dashed. */
export function renderMermaid(graph: LineageGraph): string {
  const id = idsOf(graph.nodes);
  const lines = ["graph TD"];
  for (const node of graph.nodes) lines.push(`  ${id.get(node.name)!}["${labelOf(node).replaceAll('"', "#quot;")}"]`);
  for (const edge of graph.edges) lines.push(`  ${id.get(edge.from)!} --> ${id.get(edge.to)!}`);
  lines.push("  classDef requested stroke-width:3px", `  class ${id.get(graph.pattern)!} requested`);
  const missing = graph.nodes.filter((n) => n.missing === true).map((n) => id.get(n.name)!);
  if (missing.length > 0) lines.push("  classDef missing stroke-dasharray:5 5", `  class ${missing.join(",")} missing`);
  return `${lines.join("\n")}\n`;
}

/** Graphviz source with quoted ids; the pattern asked about is drawn bold, missing ones dashed. */
export function renderDot(graph: LineageGraph): string {
  const lines = ["digraph lineage {"];
  for (const node of graph.nodes) {
    const style = node.missing === true ? ", style=dashed" : node.name === graph.pattern ? ", style=bold" : "";
    lines.push(`  ${quote(node.name)} [label=${quote(labelOf(node))}${style}];`);
  }
  for (const edge of graph.edges) lines.push(`  ${quote(edge.from)} -> ${quote(edge.to)};`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

function labelOf(node: LineageNode): string {
  return node.version === undefined ? `${node.name} (missing)` : `${node.name}@${node.version}`;
}

/**
 * Mermaid ids: a prefix keeps them clear of keywords (`end`, `graph`), other
 * characters become `_`, and a number tells apart names that then collide.
 */
function idsOf(nodes: readonly LineageNode[]): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const { name } of nodes) {
    const base = `p_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    ids.set(name, id);
  }
  return ids;
}

function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
