/**
 * Facts about the installed package: its root (where the bundled starter
 * folders live) and its version. Found by walking up from this file, so it
 * works from the sources and from the compiled dist/ alike.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface PackageInfo {
  root: string;
  version: string;
}

export function packageInfo(): PackageInfo {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (manifest.name === "patternd") return { root: dir, version: manifest.version ?? "0.0.0" };
    } catch {
      // not here; keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("patternd's package.json was not found above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
}
