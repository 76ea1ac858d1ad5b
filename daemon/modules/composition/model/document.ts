/**
 * The only code that knows the `yaml` package (pure). A pattern file is kept
 * as a yaml Document so that a machine edit changes only the fields it
 * touches: comments, key order and every section we do not know survive.
 * Parsing is safe: core schema (no custom tags), bounded aliases, unique
 * keys, and a size limit checked before the parser sees the text.
 *
 * Reading a file only for its data (the index) first tries js-yaml, about
 * ten times faster than building a Document (0.06 against 0.7 ms for a
 * 2.5 KB pattern, which made the first index of 10 000 patterns take 15 s).
 * It is used only on text with no anchors and no tags (so no alias
 * expansion and no custom types are possible), no complex `?` keys and no
 * `0b` numbers (the two places where the parsers read YAML 1.2 core
 * differently), and only when it succeeds;
 * anything it rejects goes through the yaml parser, whose verdict and
 * messages are the ones users see. Edits always go through a Document.
 */
import { CORE_SCHEMA, load } from "js-yaml";
import { Document, isMap, isScalar, isSeq, parseDocument, visit, type YAMLSeq } from "yaml";
import { diffLines } from "./line-diff.js";
import { isStackOverflow, NESTING_MESSAGE, nestingProblem } from "./nesting.js";

export const MAX_DOCUMENT_BYTES = 1024 * 1024;
const MAX_ALIASES = 100;

export interface Issue {
  path: string;
  message: string;
}

export type ParseResult = { ok: true; document: YamlDocument } | { ok: false; issues: Issue[] };

const FAST_PATH_EXCLUDED = /[&!]|^[ \t-]*\?|\b0b/m;

/** A document's data, for reading only (see the module comment). */
export function readData(text: string): { ok: true; data: Record<string, unknown> } | { ok: false; issues: Issue[] } {
  if (!FAST_PATH_EXCLUDED.test(text) && Buffer.byteLength(text) <= MAX_DOCUMENT_BYTES) {
    try {
      const data = load(text, { schema: CORE_SCHEMA });
      if (isPlainObject(data)) {
        const deep = nestingProblem(data);
        return deep === null ? { ok: true, data } : { ok: false, issues: [deep] };
      }
    } catch {
      // the yaml parser below gives the error users see
    }
  }
  const parsed = YamlDocument.parse(text);
  return parsed.ok ? { ok: true, data: parsed.document.data } : parsed;
}

// As FAST_PATH_EXCLUDED, but `&` and `!` count only where a node can start.
const SEQUENCE_FAST_PATH_EXCLUDED = /(?:^|[\s,[{:?-])[&!]|^[ \t-]*\?|\b0b/m;

/**
 * A log's items, for reading only: decision logs are YAML block sequences
 * that only grow. The same two parsers as readData, with no size limit (a
 * log grows by design; what a YAML bomb needs, aliases, stays bounded). The
 * fast path looks for anchors and tags only where a node can start, since
 * free text in a log ("done!", "A & B") would otherwise send every log to
 * the slower parser.
 */
export function readSequence(text: string): { ok: true; items: unknown[] } | { ok: false; issues: Issue[] } {
  const read = readSequenceWithAliases(text);
  return read.ok ? { ok: true, items: read.items } : read;
}

/**
 * readSequence, also telling whether the text uses aliases: an item with an
 * alias to another item's anchor does not read the same on its own (the
 * decision-log index reads items back one by one).
 */
export function readSequenceWithAliases(text: string): { ok: true; items: unknown[]; aliases: boolean } | { ok: false; issues: Issue[] } {
  if (!SEQUENCE_FAST_PATH_EXCLUDED.test(text)) {
    try {
      const data = load(text, { schema: CORE_SCHEMA });
      // No anchors (the fast path's condition), so no aliases.
      if (data === undefined || data === null) return { ok: true, items: [], aliases: false };
      if (Array.isArray(data)) {
        const deep = nestingProblem(data);
        return deep === null ? { ok: true, items: data as unknown[], aliases: false } : { ok: false, issues: [deep] };
      }
    } catch {
      // the yaml parser below gives the error users see
    }
  }
  const doc = parseDocument(text, { schema: "core", uniqueKeys: true, prettyErrors: true, logLevel: "error" });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) return { ok: false, issues: problems.map((p) => ({ path: "", message: describeYamlError(p.message, p.linePos?.[0]) })) };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    return { ok: false, issues: [{ path: "", message: (err as Error).message }] };
  }
  let aliases = false;
  visit(doc, {
    Alias: () => {
      aliases = true;
      return visit.BREAK;
    },
  });
  if (data === null || data === undefined) return { ok: true, items: [], aliases };
  if (!Array.isArray(data)) return { ok: false, issues: [{ path: "", message: "a log is a YAML sequence (- item) at the top level" }] };
  const deep = nestingProblem(data);
  return deep === null ? { ok: true, items: data as unknown[], aliases } : { ok: false, issues: [deep] };
}

/**
 * JSON data as one item of a block sequence (`- ...` ending in a newline),
 * so that items written one after another read back as one list: every line
 * after the first is indented or empty, so nothing inside a string can start
 * an item of its own. The text is read back before it is returned: the
 * serialiser drops the spaces of whitespace-only lines in a block scalar, and
 * such values are written again with every string quoted on one line.
 */
export function formatSequenceItem(value: unknown): string {
  const doc = new Document([value]);
  for (const blockQuote of [true, false]) {
    const text = doc.toString({ lineWidth: 0, flowCollectionPadding: false, blockQuote });
    // Read back the way a log is read (the fast parser where it applies): the check costs less than the rendering.
    const back = readSequence(text);
    const oneItem = text.startsWith("-") && text.endsWith("\n") && !/\n[^ \n]/.test(text.slice(0, -1));
    if (oneItem && back.ok && deepEqual(back.items, [value])) return text;
  }
  throw new Error("value does not read back the same from YAML (not JSON data?)");
}

export class YamlDocument {
  private cached: Record<string, unknown> | null = null;
  /** The serialiser's text of the document as parsed, taken just before its first edit (what the edit is replayed against). */
  private unedited: string | null = null;
  /** The same with lists written `key:\n- item`, as PyYAML (KSI) writes them. */
  private uneditedCompact: string | null = null;

  /** The text this document was parsed from, if any: untouched lines are written back from it as they were. */
  private constructor(
    private readonly doc: Document,
    private readonly source: string | null,
  ) {}

  static parse(text: string): ParseResult {
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_DOCUMENT_BYTES) {
      return { ok: false, issues: [{ path: "", message: `document is ${bytes} bytes; the limit is ${MAX_DOCUMENT_BYTES} (1 MiB)` }] };
    }
    // prettyErrors: the errors get their line and column (linePos); the message is cut to its first line below.
    const doc = parseDocument(text, { schema: "core", uniqueKeys: true, prettyErrors: true, logLevel: "error" });
    // An unknown tag (!!js/function, !custom) is only a warning to the parser; for us it is an error.
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) {
      return { ok: false, issues: problems.map((p) => ({ path: "", message: describeYamlError(p.message, p.linePos?.[0]) })) };
    }
    const document = new YamlDocument(doc, text);
    try {
      const data = document.data;
      if (typeof data !== "object" || data === null || Array.isArray(data)) {
        return { ok: false, issues: [{ path: "", message: "a composition is a YAML mapping (key: value) at the top level" }] };
      }
      const deep = nestingProblem(data);
      if (deep !== null) return { ok: false, issues: [deep] };
    } catch (err) {
      return { ok: false, issues: [{ path: "", message: describeYamlError((err as Error).message, undefined) }] };
    }
    return { ok: true, document };
  }

  static fromObject(value: Record<string, unknown>): YamlDocument {
    return new YamlDocument(new Document(value), null);
  }

  /** The document as plain data (aliases resolved, bounded). */
  get data(): Record<string, unknown> {
    this.cached ??= this.doc.toJS({ maxAliasCount: MAX_ALIASES }) as Record<string, unknown>;
    return this.cached;
  }

  get(path: readonly string[]): unknown {
    const node: unknown = this.doc.getIn(path, false);
    return isMap(node) || isSeq(node) ? (node.toJSON() as unknown) : node;
  }

  set(path: readonly string[], value: unknown): void {
    this.beforeEdit();
    this.replace(path, value);
  }

  delete(path: readonly string[]): void {
    this.beforeEdit();
    this.doc.deleteIn(path);
  }

  /**
   * Makes the document equal `target`, touching only what differs: changed
   * scalars and lists are replaced in place, missing keys removed, new keys
   * appended. Comments and the order of kept keys stay.
   */
  applyObject(target: Record<string, unknown>): void {
    const current = this.data;
    this.beforeEdit();
    this.applyAt([], current, target);
  }

  private beforeEdit(): void {
    this.cached = null;
    if (this.source !== null && this.unedited === null) {
      this.unedited = render(this.doc);
      this.uneditedCompact = render(this.doc, false);
    }
  }

  /**
   * The document as text. When it was parsed from text, lines the edits did
   * not touch come back exactly as they were (the serialiser alone would
   * normalise spacing before comments, blank lines and the like).
   */
  toString(): string {
    if (this.source !== null && this.unedited === null) return this.source;
    const edited = render(this.doc);
    if (this.source === null || this.unedited === null) return edited;
    // The serialiser writes \n: a CRLF file is edited as LF and written back CRLF throughout (it came back mixed).
    const crlf = usesCrlf(this.source);
    const source = crlf ? this.source.replace(/\r\n/g, "\n") : this.source;
    // The replay puts the serialiser's new lines among the person's. Where the two indent a list
    // differently (KSI's `key:\n- item`, the serialiser's `key:\n  - item`) that text does not read
    // back as the data: then the replay of the serialiser's compact lists, else the whole document
    // as the serialiser writes it. Whatever is returned reads back as the data.
    const attempts: [string | null, () => string][] = [
      [this.unedited, () => edited],
      [this.uneditedCompact, () => render(this.doc, false)],
    ];
    for (const [before, after] of attempts) {
      const replayed = before === null ? null : replayOnto(source, before, after());
      if (replayed === null) continue;
      const back = readData(replayed);
      if (back.ok && deepEqual(back.data, this.data)) return crlf ? withCrlf(replayed) : replayed;
    }
    return crlf ? withCrlf(edited) : edited;
  }

  /**
   * The source text with `item` appended to the top-level block list `key`
   * (or a new `key:` list at the end), every other byte as it was: a fork
   * recording itself in its parent's `forks` is a splice, not an edit and
   * render of the whole parent. The result is read back and compared with
   * the data it must hold; null when it does not, when this document was
   * edited or not parsed from text, or when `key` holds anything but a
   * non-empty block list (the caller edits the Document then).
   */
  withListItem(key: string, item: unknown): string | null {
    const source = this.source;
    if (source === null || this.unedited !== null || !isMap(this.doc.contents)) return null;
    const data = this.data;
    const list = data[key];
    const pair = this.doc.contents.items.find((p) => isScalar(p.key) && p.key.value === key);
    let text: string;
    if (pair === undefined) {
      text = `${source}${source === "" || source.endsWith("\n") ? "" : "\n"}${key}:\n${indented(formatSequenceItem(item), "  ")}`;
    } else {
      const seq = pair.value;
      if (!isSeq(seq) || seq.flow === true || seq.items.length === 0 || !Array.isArray(list) || seq.range == null) return null;
      const [start, , end] = seq.range;
      // The list must end at a line's end (not before a comment on its last line).
      if (end < source.length && source[end - 1] !== "\n") return null;
      const column = start - (source.lastIndexOf("\n", start - 1) + 1);
      text = `${source.slice(0, end)}${end === source.length && !source.endsWith("\n") ? "\n" : ""}${indented(formatSequenceItem(item), " ".repeat(column))}${source.slice(end)}`;
    }
    if (usesCrlf(source)) text = withCrlf(text);
    const back = readData(text);
    const items: unknown[] = Array.isArray(list) ? list : [];
    return back.ok && deepEqual(back.data, { ...data, [key]: [...items, item] }) ? text : null;
  }

  private applyAt(path: string[], current: unknown, target: unknown): void {
    if (isPlainObject(current) && isPlainObject(target) && (path.length === 0 || isMap(this.doc.getIn(path, true)))) {
      for (const key of Object.keys(current)) if (!(key in target)) this.doc.deleteIn([...path, key]);
      for (const [key, value] of Object.entries(target)) {
        if (key in current) this.applyAt([...path, key], current[key], value);
        else this.doc.setIn([...path, key], this.doc.createNode(value));
      }
      return;
    }
    if (deepEqual(current, target)) return;
    const node: unknown = this.doc.getIn(path, true);
    if (Array.isArray(current) && Array.isArray(target) && isSeq(node) && node.items.length === current.length && this.applyToList(path, node, current, target)) return;
    this.replace(path, target);
  }

  /**
   * Edits a list item by item (a line diff over the items): unchanged items
   * keep their nodes, so comments and blank lines between them stay; a
   * changed item is edited in place; others are removed or inserted.
   */
  private applyToList(path: string[], seq: YAMLSeq, current: unknown[], target: unknown[]): boolean {
    const ops = diffLines(current.map((item) => JSON.stringify(item)), target.map((item) => JSON.stringify(item)));
    if (ops === null) return false;
    const items: unknown[] = [];
    const changed: { at: number; a: number; b: number }[] = [];
    let removed: number[] = [];
    let added: number[] = [];
    // Between two unchanged items, removed and added items pair up as edits in place.
    const flush = () => {
      added.forEach((b, k) => {
        const a = removed[k];
        if (a !== undefined) changed.push({ at: items.length, a, b });
        items.push(a === undefined ? this.doc.createNode(target[b]) : seq.items[a]);
      });
      removed = [];
      added = [];
    };
    for (const op of ops) {
      if (op.op === "equal") {
        flush();
        items.push(seq.items[op.a]);
      } else if (op.op === "delete") removed.push(op.a);
      else added.push(op.b);
    }
    flush();
    seq.items = items;
    for (const { at, a, b } of changed) this.applyAt([...path, String(at)], current[a], target[b]);
    return true;
  }

  /**
   * Puts a new node for `value` where the node at `path` was. A list written
   * inline ([a, b]) stays inline, and a value of the same kind keeps the old
   * one's comments: `version: 1.0.0  # why` becomes `version: 1.0.1  # why`.
   */
  private replace(path: readonly string[], value: unknown): void {
    const node = this.doc.createNode(value);
    const before: unknown = this.doc.getIn(path, true);
    if ((isMap(before) || isSeq(before)) && before.flow === true && (isMap(node) || isSeq(node))) node.flow = true;
    const sameKind = (isScalar(before) && isScalar(node)) || (isMap(before) && isMap(node)) || (isSeq(before) && isSeq(node));
    if (sameKind) {
      node.comment = before.comment;
      node.commentBefore = before.commentBefore;
      node.spaceBefore = before.spaceBefore;
    }
    this.doc.setIn(path, node);
  }
}

/**
 * Replays the edit `before → after` (both serialiser output) onto
 * `original` (the hand-written text `before` was rendered from). Lines of
 * `before` are matched to lines of `original` ignoring whitespace runs and
 * a comment after content (the serialiser moves `key:   # why` above a
 * map's first entry, as its own line, so the key's line must still match:
 * else deleting the key would leave the original's `key:   # why`, a null);
 * unchanged lines are taken from `original`, lines only the original has
 * (extra blank lines, spacing) are kept where they were, lines only the
 * serialiser produced are dropped unless the edit added them. Null when
 * the texts are too large to diff.
 */
function replayOnto(original: string, before: string, after: string): string | null {
  const o = original.split("\n");
  const b = before.split("\n");
  const a = after.split("\n");
  const alignment = diffLines(b.map(normalise), o.map(normalise));
  const edit = diffLines(b, a);
  if (alignment === null || edit === null) return null;
  const originalOf = new Map<number, number>();
  for (const op of alignment) if (op.op === "equal") originalOf.set(op.a, op.b);
  const out: string[] = [];
  // The alignment is monotone, so original lines between two matched ones are the original's own.
  let next = 0;
  const catchUp = (upTo: number) => {
    for (; next < upTo; next++) out.push(o[next]!);
  };
  // A hunk's added lines are written after its removed ones are passed, so that an edited line can
  // take the original's spacing before a kept comment.
  let removed: string[] = [];
  let added: string[] = [];
  const flush = () => {
    for (const line of added) out.push(withOriginalCommentSpacing(line, removed));
    removed = [];
    added = [];
  };
  for (const op of edit) {
    if (op.op === "insert") {
      added.push(a[op.b]!);
      continue;
    }
    const at = originalOf.get(op.a);
    if (at === undefined) {
      // A line only the serialiser wrote: kept only as part of the edit (an insert), never on its own.
      continue;
    }
    if (op.op === "equal") flush();
    catchUp(at);
    if (op.op === "equal") out.push(o[at]!);
    else removed.push(o[at]!);
    next = at + 1;
  }
  flush();
  catchUp(o.length);
  return out.join("\n");
}

const TRAILING_COMMENT = /^(\s*[^\s#][^#]*?:)(.*?\S)(\s+)(#.*)$/;

/**
 * `version: 1.0.1   # why` edited to `version: 1.1.0 # why` (the serialiser
 * writes one space) comes back as `version: 1.1.0   # why`: same key, same
 * comment, the person's alignment kept.
 */
function withOriginalCommentSpacing(line: string, removed: readonly string[]): string {
  const edited = TRAILING_COMMENT.exec(line);
  if (edited === null) return line;
  for (const before of removed) {
    const original = TRAILING_COMMENT.exec(before);
    if (original !== null && original[1] === edited[1] && original[4] === edited[4]) return `${edited[1]}${edited[2]}${original[3]}${edited[4]}`;
  }
  return line;
}

/** Each non-empty line of `text` behind `prefix` (an empty line in a block scalar stays empty). */
function indented(text: string, prefix: string): string {
  return prefix === "" ? text : text.replace(/^(?=.)/gm, prefix);
}

function normalise(line: string): string {
  const content = line.trimStart().startsWith("#") ? line : line.replace(/\s#.*$/, "");
  return content.replace(/\s+/g, " ").trim();
}

/** True when the text's first line ends in CRLF: its edits are written with CRLF too. */
function usesCrlf(text: string): boolean {
  const newline = text.indexOf("\n");
  return newline > 0 && text[newline - 1] === "\r";
}

/** Every line ending as CRLF. */
function withCrlf(text: string): string {
  return text.replace(/\r?\n/g, "\r\n");
}

function render(doc: Document, indentSeq = true): string {
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false, indentSeq });
}

function describeYamlError(message: string, position: { line: number; col: number } | undefined): string {
  // The parser ran out of stack: only nesting far past MAX_NESTING does that (a hostile file); say so, not the JS message.
  const first = isStackOverflow(message) ? NESTING_MESSAGE : message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
  return position === undefined ? first : `line ${position.line}, column ${position.col}: ${first}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => deepEqual(item, other[i]));
  }
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  return keysA.length === keysB.length && keysA.every((key) => deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}
