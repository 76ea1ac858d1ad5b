/**
 * What an event-log file holds, block by block (pure): for each run of
 * whole lines of about BLOCK_BYTES, the event names and agent ids present
 * and the time range. monitor:get_events asks it which blocks can hold a
 * match and reads only those, so a filter that matches nothing costs a look
 * at the summaries, not a scan of the log (issue 22).
 *
 * A summary may over-state (a block said to hold a name that a person has
 * since edited out is read and yields nothing) but never under-states:
 * every parsable record of a block is in its summary.
 */

/** Blocks are cut at the first line end at or past this size: what one query reads at a time when a block can match. */
export const BLOCK_BYTES = 64 * 1024;
/** Past this many distinct agent ids a block stops listing them and may hold any. */
const MAX_AGENTS_PER_BLOCK = 32;

/** The fields of a record that queries filter on. */
export interface RecordKey {
  /** Epoch ms. */
  ts: number;
  event: string;
  agentId: string | null;
}

export interface Block {
  /** Byte offsets in the file: [start, end), whole lines. */
  start: number;
  end: number;
  minTs: number;
  maxTs: number;
  names: Set<string>;
  /** null: too many to list, any agent may be present. */
  agents: Set<string> | null;
}

export interface KeyQuery {
  matchesName: (name: string) => boolean;
  agentId?: string | undefined;
  /** Epoch ms bounds, inclusive. */
  since?: number | undefined;
  until?: number | undefined;
}

const STRING = String.raw`"(?:[^"\\]|\\.)*"`;
/**
 * The head of a line as EventLog writes it: ts, seq, event, id, agent_id come
 * first, in this order. Reading them with one regex is several times cheaper
 * than JSON.parse of the whole line (whose data may be kilobytes).
 */
const HEAD = new RegExp(String.raw`^\{"ts":"([^"\\]*)","seq":-?\d+,"event":(${STRING}),"id":(?:null|-?\d[\d.eE+-]*|${STRING}),"agent_id":(null|${STRING})`);

/** The key of one log line; null when it is not a record (a torn line, a hand-written stray). */
export function recordKey(line: string): RecordKey | null {
  const head = HEAD.exec(line);
  if (head !== null) {
    const ts = Date.parse(head[1]!);
    if (Number.isNaN(ts)) return null;
    return { ts, event: jsonString(head[2]!), agentId: head[3] === "null" ? null : jsonString(head[3]!) };
  }
  // Not in the writer's own order: a line from another tool or an edit. Slow, but correct.
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof record !== "object" || record === null) return null;
  const { ts, event, agent_id: agentId } = record as Record<string, unknown>;
  const time = typeof ts === "string" ? Date.parse(ts) : NaN;
  if (Number.isNaN(time) || typeof event !== "string") return null;
  return { ts: time, event, agentId: typeof agentId === "string" ? agentId : null };
}

function jsonString(quoted: string): string {
  return quoted.includes("\\") ? (JSON.parse(quoted) as string) : quoted.slice(1, -1);
}

/** Does the key pass the query's filters? The same test a full scan applies to each record. */
export function keyMatches(key: RecordKey, query: KeyQuery): boolean {
  if (query.since !== undefined && key.ts < query.since) return false;
  if (query.until !== undefined && key.ts > query.until) return false;
  if (query.agentId !== undefined && key.agentId !== query.agentId) return false;
  return query.matchesName(key.event);
}

/**
 * The blocks of one file, in file order, covering its bytes [0, covered).
 * Lines are added as the file is read (or re-read from where it was left).
 */
export class FileIndex {
  readonly blocks: Block[] = [];
  /** Every name of every block, each stored once (the blocks share these strings). */
  readonly names = new Map<string, string>();
  private readonly agentNames = new Map<string, string>();
  /** Bytes of the file summarised so far: always at a line end. */
  covered = 0;

  /** Adds the line at bytes [start, end) (its newline included); `key` null for a line that is not a record. */
  add(key: RecordKey | null, start: number, end: number): void {
    let block = this.blocks.at(-1);
    if (block === undefined || block.end !== start || block.end - block.start >= BLOCK_BYTES) {
      block = { start, end, minTs: Infinity, maxTs: -Infinity, names: new Set(), agents: new Set() };
      this.blocks.push(block);
    }
    block.end = end;
    this.covered = end;
    if (key === null) return;
    if (key.ts < block.minTs) block.minTs = key.ts;
    if (key.ts > block.maxTs) block.maxTs = key.ts;
    block.names.add(intern(this.names, key.event));
    if (key.agentId !== null && block.agents !== null && !block.agents.has(key.agentId)) {
      block.agents = block.agents.size >= MAX_AGENTS_PER_BLOCK ? null : block.agents.add(intern(this.agentNames, key.agentId));
    }
  }

  /**
   * Blocks that may hold a record the query matches, newest (last in the
   * file) first. `nameMatches` memoizes the glob per distinct name: a
   * query asks each name once, however many blocks list it.
   */
  candidates(query: KeyQuery, nameMatches: (name: string) => boolean = memoize(query.matchesName)): Block[] {
    if (![...this.names.keys()].some(nameMatches)) return [];
    const found: Block[] = [];
    for (let i = this.blocks.length - 1; i >= 0; i--) {
      const block = this.blocks[i]!;
      if (blockMayMatch(block, query, nameMatches)) found.push(block);
    }
    return found;
  }
}

export function blockMayMatch(block: Block, query: KeyQuery, nameMatches: (name: string) => boolean = query.matchesName): boolean {
  if (block.names.size === 0) return false;
  if (query.since !== undefined && block.maxTs < query.since) return false;
  if (query.until !== undefined && block.minTs > query.until) return false;
  if (query.agentId !== undefined && block.agents !== null && !block.agents.has(query.agentId)) return false;
  for (const name of block.names) if (nameMatches(name)) return true;
  return false;
}

/** A name test that asks `matches` once per distinct name. */
export function memoize(matches: (name: string) => boolean): (name: string) => boolean {
  const seen = new Map<string, boolean>();
  return (name) => {
    let result = seen.get(name);
    if (result === undefined) seen.set(name, (result = matches(name)));
    return result;
  };
}

function intern(pool: Map<string, string>, text: string): string {
  let stored = pool.get(text);
  if (stored === undefined) {
    // A copy of its own: `text` may be a slice of a whole line the pool would otherwise keep alive.
    stored = (" " + text).slice(1);
    pool.set(stored, stored);
  }
  return stored;
}
