/**
 * Paths that never leave a directory through a symbolic link (issue 23).
 * Anything that can write into the store — a person, a `git pull` of
 * someone's branch — can plant a link, so every path the store layer reads,
 * writes, appends, renames or deletes is resolved here: each existing
 * component checked with lstat from the root down, and the last one opened
 * with O_NOFOLLOW (which is its check when it is opened: a full rebuild
 * opens every file of the store), so a link swapped in after the check
 * still fails the open rather than being followed. A link anywhere on the way is `unsafe_path`,
 * naming the link and where it points; nothing is read or written through it.
 * The root itself is trusted: it is what the daemon was told to use.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { DaemonError } from "../../../core/errors.js";

const { O_NOFOLLOW, O_RDONLY } = constants;

export class ConfinedDir {
  /** `label` is how paths are named to people: "" for the store itself, ".git" for a plain store's repository folder, else the folder's own path. */
  constructor(
    readonly root: string,
    private readonly label = "",
  ) {}

  /**
   * The absolute path of `path` (relative to the root), after checking that
   * no existing component of it is a symbolic link. Refuses a path that is
   * not below the root (`..`, absolute, the root itself) with a plain Error:
   * that is a bug of the caller, not something a user planted.
   */
  path(path: string): string {
    return this.checked(path, true);
  }

  /** path(), checking the last component too only when `last` (open's O_NOFOLLOW checks it, without an lstat more per file). */
  private checked(path: string, last: boolean): string {
    const absolute = resolve(this.root, path);
    const inside = relative(this.root, absolute);
    if (inside === "" || isAbsolute(path) || inside === ".." || inside.startsWith(`..${sep}`)) throw new Error(`path ${path} is outside ${this.root}`);
    const components = inside.split(sep);
    if (!last) components.pop();
    let at = this.root;
    for (const component of components) {
      at = `${at}${sep}${component}`;
      const info = lstatSync(at, { throwIfNoEntry: false });
      // Nothing below a missing component exists yet; whatever makes it makes real folders.
      if (info === undefined) break;
      if (info.isSymbolicLink()) throw this.unsafe(at, absolute);
      if (!info.isDirectory()) break;
    }
    return absolute;
  }

  /** Opens `path` with `flags`, never following a link at its last component. */
  open(path: string, flags: number, mode?: number): number {
    const absolute = this.checked(path, false);
    try {
      return openSync(absolute, flags | O_NOFOLLOW, mode);
    } catch (err) {
      // ELOOP: the last component became a link after the check.
      if ((err as NodeJS.ErrnoException).code === "ELOOP") throw this.unsafe(absolute, absolute);
      throw err;
    }
  }

  /**
   * A regular file's bytes, or undefined when it does not exist. Refuses a
   * link (unsafe_path), anything that is not a regular file, and a file over
   * `maxBytes` (before reading it).
   */
  read(path: string, maxBytes = Number.MAX_SAFE_INTEGER): Buffer | undefined {
    let fd: number;
    try {
      fd = this.open(path, O_RDONLY);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    try {
      const info = fstatSync(fd);
      if (!info.isFile()) throw new Error(`${this.named(path)} is not a regular file`);
      if (info.size > maxBytes) throw new Error(`${this.named(path)} is ${info.size} bytes; the limit is ${maxBytes}`);
      const buffer = Buffer.allocUnsafe(info.size);
      let filled = 0;
      while (filled < info.size) {
        const read = readSync(fd, buffer, filled, info.size - filled, filled);
        if (read === 0) break;
        filled += read;
      }
      return filled === info.size ? buffer : buffer.subarray(0, filled);
    } finally {
      closeSync(fd);
    }
  }

  /** A file's text, undefined when there is none. */
  readText(path: string): string | undefined {
    return this.read(path)?.toString("utf8");
  }

  /** Writes `data` to a file opened with `flags` (O_APPEND, or O_TRUNC, ...). */
  write(path: string, data: string | Uint8Array, flags: number, mode = 0o644): void {
    const fd = this.open(path, flags, mode);
    try {
      writeFileSync(fd, data);
    } finally {
      closeSync(fd);
    }
  }

  /** How `path` (relative to the root, or absolute inside it) is named to people: `<label>/<path>`. */
  named(path: string): string {
    const inside = relative(this.root, resolve(this.root, path));
    return this.label === "" ? inside : `${this.label}/${inside}`;
  }

  /** `unsafe_path` for the link at `link` (absolute), met on the way to `absolute`. */
  private unsafe(link: string, absolute: string): DaemonError {
    let target: string;
    try {
      target = resolve(dirname(link), readlinkSync(link));
    } catch {
      target = "(a link that is gone again)";
    }
    const at = this.named(link);
    const path = this.named(absolute);
    const via = at === path ? `${at} is a symbolic link` : `${path} leads through ${at}, a symbolic link`;
    return new DaemonError(
      "unsafe_path",
      `${via} to ${target}; the store never reads or writes through a link: replace it with the real file or folder, or remove it`,
      { path: at, target },
    );
  }
}

/** True when `err` is the refusal of a path that leads through a link. */
export function isUnsafePath(err: unknown): err is DaemonError {
  return err instanceof DaemonError && err.code === "unsafe_path";
}
