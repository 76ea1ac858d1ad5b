/**
 * The only code that knows the `yaml` package (pure). A pattern file is kept
 * as a yaml Document so that a machine edit changes only the fields it
 * touches: comments, key order and every section we do not know survive.
 * Parsing is safe: core schema (no custom tags), bounded aliases, unique
 * keys, and a size limit checked before the parser sees the text.
 */
import { Document, isMap, isSeq, parseDocument } from "yaml";
import { diffLines } from "./line-diff.js";

export const MAX_DOCUMENT_BYTES = 1024 * 1024;
const MAX_ALIASES = 100;

export interface Issue {
  path: string;
  message: string;
}

export type ParseResult = { ok: true; document: YamlDocument } | { ok: false; issues: Issue[] };

export class YamlDocument {
  private cached: Record<string, unknown> | null = null;

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
    const doc = parseDocument(text, { schema: "core", uniqueKeys: true, prettyErrors: false });
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
    } catch (err) {
      return { ok: false, issues: [{ path: "", message: (err as Error).message }] };
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
    this.cached = null;
    this.doc.setIn(path, this.doc.createNode(value));
  }

  delete(path: readonly string[]): void {
    this.cached = null;
    this.doc.deleteIn(path);
  }

  /**
   * Makes the document equal `target`, touching only what differs: changed
   * scalars and lists are replaced in place, missing keys removed, new keys
   * appended. Comments and the order of kept keys stay.
   */
  applyObject(target: Record<string, unknown>): void {
    const current = this.data;
    this.applyAt([], current, target);
    this.cached = null;
  }

  /**
   * The document as text. When it was parsed from text, lines the edits did
   * not touch come back exactly as they were (the serialiser alone would
   * normalise spacing before comments and the like): the edit is found as a
   * line diff between the serialised original and the serialised result,
   * and replayed onto the original text.
   */
  toString(): string {
    const edited = render(this.doc);
    if (this.source === null) return edited;
    const original = this.source.split("\n");
    const before = render(parseDocument(this.source, { schema: "core", uniqueKeys: true })).split("\n");
    if (before.length !== original.length) return edited;
    const after = edited.split("\n");
    const ops = diffLines(before, after);
    if (ops === null) return edited;
    return ops
      .filter((op) => op.op !== "delete")
      .map((op) => (op.op === "equal" ? original[op.a]! : after[op.b]!))
      .join("\n");
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
    const node = this.doc.createNode(target);
    // A list written inline ([a, b]) stays inline.
    const before: unknown = this.doc.getIn(path, true);
    if ((isMap(before) || isSeq(before)) && before.flow === true && (isMap(node) || isSeq(node))) node.flow = true;
    this.doc.setIn(path, node);
  }
}

function render(doc: Document): string {
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

function describeYamlError(message: string, position: { line: number; col: number } | undefined): string {
  const first = message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
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
