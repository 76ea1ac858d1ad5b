/**
 * Reads the everyday-phrasing equivalences select uses (model/meanings.ts)
 * from the file that ships beside the bundled library, once, at start.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readData } from "../model/document.js";
import { Meanings, parseMeanings } from "../model/meanings.js";

/** Where the file is under the package root. It sits in a folder of its own so the store's seed (top-level *.yaml) never takes it for a pattern. */
export function meaningsPath(root: string): string {
  return join(root, "compositions", "meanings", "meanings.yaml");
}

/** The meanings of the file at `path`; throws with the file and the item when it is missing or malformed. */
export function loadMeanings(path: string): Meanings {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`${path}: cannot read the select meanings file (${(err as Error).message})`, { cause: err });
  }
  const read = readData(text);
  if (!read.ok) throw new Error(`${path}: not YAML select can read: ${read.issues.map((issue) => `${issue.path} ${issue.message}`).join("; ")}`);
  return new Meanings(parseMeanings(read.data, path));
}
