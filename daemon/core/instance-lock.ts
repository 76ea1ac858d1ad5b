/**
 * One daemon per home: the pid file, created exclusively, is the lock. A pid
 * file left by a crash (its process gone, or not a patternd) is taken over.
 */
import { open, readFile, unlink } from "node:fs/promises";

export class AlreadyRunningError extends Error {
  constructor(
    readonly pid: number | null,
    readonly socketPath: string,
  ) {
    super(`patternd is already running${pid === null ? "" : ` (pid ${pid})`} on ${socketPath}`);
    this.name = "AlreadyRunningError";
  }
}

export interface InstanceLock {
  release(): Promise<void>;
}

/**
 * `isLive(pid)` decides whether the holder is a running daemon (the caller
 * probes the socket and the process).
 */
export async function acquireInstanceLock(
  pidFile: string,
  socketPath: string,
  isLive: (pid: number | null) => Promise<boolean>,
): Promise<InstanceLock> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(pidFile, "wx", 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.sync();
      await handle.close();
      return { release: () => unlink(pidFile).catch(() => undefined) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const pid = await readPid(pidFile);
    if (await isLive(pid)) throw new AlreadyRunningError(pid, socketPath);
    await unlink(pidFile).catch(() => undefined);
  }
  throw new Error(`could not take the lock ${pidFile}: it keeps reappearing`);
}

export async function readPid(pidFile: string): Promise<number | null> {
  try {
    const pid = Number.parseInt(await readFile(pidFile, "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** True when `pid` is a live process that looks like a patternd daemon. */
export async function isDaemonProcess(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes("daemon/main");
  } catch {
    return true; // no /proc: a live process is assumed to be the daemon
  }
}
