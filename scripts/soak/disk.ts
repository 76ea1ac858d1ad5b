/**
 * The soak's full disk: the home on a tmpfs of its own (root only: mounting
 * needs it; elsewhere the phase is skipped, as filling a shared disk is not
 * a test), a filler file that takes every byte left, then freed. Nothing
 * else on the machine fills up.
 */
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";

export class HomeDisk {
  private readonly filler: string;
  private mounted = true;

  private constructor(readonly home: string) {
    this.filler = join(home, "soak-filler");
  }

  /** Mounts a tmpfs of `sizeMiB` on the (empty) home; null, with the reason, when that cannot be done here. */
  static mount(home: string, sizeMiB: number): HomeDisk | string {
    if (process.getuid?.() !== 0) return "not root: a tmpfs cannot be mounted, and filling a shared disk is not a test";
    if (readdirSync(home).length > 0) return `${home} is not empty: a tmpfs mounted on it would hide what is there`;
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeMiB}m,mode=0700`, "tmpfs", home], { stdio: "pipe" });
    } catch (err) {
      return `mount -t tmpfs failed: ${(err as Error).message.split("\n")[0]!}`;
    }
    return new HomeDisk(home);
  }

  /** Takes every byte left on the home's file system; returns how many. */
  fill(): number {
    const fd = openSync(this.filler, "a");
    let bytes = 0;
    try {
      for (const size of [4 * 1024 * 1024, 64 * 1024, 4096, 1]) {
        const chunk = Buffer.alloc(size);
        try {
          for (;;) bytes += writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
        }
      }
    } finally {
      closeSync(fd);
    }
    return bytes;
  }

  free(): void {
    rmSync(this.filler, { force: true });
  }

  /** Unmounts the tmpfs; with `keep`, what it held is copied to the home's folder first (a failed run is kept to be looked at). */
  unmount(keep: boolean): void {
    if (!this.mounted) return;
    this.free();
    let copy: string | null = null;
    if (keep) {
      copy = mkdtempSync(join(dirname(this.home), "soak-kept-"));
      execFileSync("cp", ["-a", `${this.home}/.`, copy]);
    }
    execFileSync("umount", ["-l", this.home]);
    this.mounted = false;
    if (copy !== null) {
      execFileSync("cp", ["-a", `${copy}/.`, this.home]);
      rmSync(copy, { recursive: true, force: true });
    }
  }
}
