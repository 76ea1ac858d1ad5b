/**
 * Pattern files in KSI's two layouts (pure): a `.yaml` / `.yml` file is its
 * document; a `.md` file's document is its YAML front matter (between a
 * first line `---` and the next line `---`), and the rest, the markdown
 * body, is the component's prompt or content. Edits change the front matter
 * only: what surrounds it (the `---` lines and the body) is written back
 * byte for byte.
 */
import { readData, YamlDocument, type Issue } from "./document.js";

/** What surrounds a pattern file's YAML: empty for a YAML file; the `---` lines and the body for markdown. */
export interface Frame {
  before: string;
  after: string;
}

const PLAIN: Frame = { before: "", after: "" };
const OPENING = /^---[ \t]*\r?\n/;
const CLOSING = /^---[ \t]*(?:\r?\n|$)/m;

/** The file extensions a pattern may have (KSI reads these three). */
export const PATTERN_EXTENSIONS = [".yaml", ".yml", ".md"] as const;

export function isMarkdownPath(path: string): boolean {
  return path.endsWith(".md");
}

/** The extension of a pattern path (`.yaml`, `.yml`, `.md`), undefined for any other file. */
export function patternExtension(path: string): string | undefined {
  return PATTERN_EXTENSIONS.find((ext) => path.endsWith(ext) && path.length > ext.length);
}

/**
 * A file's YAML and its frame, or null for a markdown file without front
 * matter (a document, not a component). The YAML keeps its last line break,
 * so `before + yaml + after` is the file again.
 */
export function splitPatternText(path: string, text: string): { yaml: string; frame: Frame } | null {
  if (!isMarkdownPath(path)) return { yaml: text, frame: PLAIN };
  const opening = OPENING.exec(text);
  if (opening === null) return null;
  const rest = text.slice(opening[0].length);
  const closing = CLOSING.exec(rest);
  if (closing === null) return null;
  return { yaml: rest.slice(0, closing.index), frame: { before: opening[0], after: rest.slice(closing.index) } };
}

/** The file's text with `yaml` in place of its document. */
export function joinPatternText(frame: Frame, yaml: string): string {
  if (frame.before === "") return yaml;
  // The closing `---` must start a line of its own.
  return `${frame.before}${yaml === "" || yaml.endsWith("\n") ? yaml : `${yaml}\n`}${frame.after}`;
}

const NO_FRONT_MATTER: Issue = { path: "", message: "a markdown pattern starts with YAML front matter: a line ---, the document, a line ---, then the body" };

/** A stored file's data, for reading only (readData over the YAML part). */
export function readPatternData(path: string, text: string): { ok: true; data: Record<string, unknown> } | { ok: false; issues: Issue[] } {
  const split = splitPatternText(path, text);
  return split === null ? { ok: false, issues: [NO_FRONT_MATTER] } : readData(split.yaml);
}

/** A stored file as a document to edit, with the frame its text goes back into (see writePatternText). */
export function parsePatternText(path: string, text: string): { ok: true; document: YamlDocument; frame: Frame } | { ok: false; issues: Issue[] } {
  const split = splitPatternText(path, text);
  if (split === null) return { ok: false, issues: [NO_FRONT_MATTER] };
  const parsed = YamlDocument.parse(split.yaml);
  return parsed.ok ? { ok: true, document: parsed.document, frame: split.frame } : parsed;
}

/**
 * The frame of a stored file to write a new document into: its own, so the
 * body stays; a plain one when it has none (a YAML file, or text that no
 * longer has front matter).
 */
export function frameOf(path: string, text: string | undefined): Frame {
  if (text === undefined) return isMarkdownPath(path) ? { before: "---\n", after: "---\n" } : PLAIN;
  return splitPatternText(path, text)?.frame ?? (isMarkdownPath(path) ? { before: "---\n", after: `---\n${text}` } : PLAIN);
}
