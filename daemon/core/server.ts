/**
 * The only owner of the listening socket: refuses to start beside a live
 * daemon, removes a stale socket file, keeps the socket private (0600 in a
 * 0700 directory) and closes gracefully.
 */
import { chmod, lstat, mkdir, stat, unlink } from "node:fs/promises";
import { createConnection, createServer, type Server as NetServer, type Socket } from "node:net";
import { dirname } from "node:path";
import { AlreadyRunningError } from "./instance-lock.js";

export interface ListenOptions {
  socketPath: string;
  /** Enforce 0700 on the socket's directory even if it already existed (the home's own run dir). */
  ownsDirectory: boolean;
  onConnection(socket: Socket): void;
}

/** Unix socket paths are limited to about 107 bytes by the kernel. */
const MAX_SOCKET_PATH_BYTES = 107;

/** Checks the socket path before the daemon does anything else. */
export function checkSocketPath(socketPath: string): void {
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(
      `socket path is ${Buffer.byteLength(socketPath)} bytes, over the ${MAX_SOCKET_PATH_BYTES}-byte limit of Unix sockets: ${socketPath}; use a shorter --home or --socket`,
    );
  }
}

/** Listens on the socket; a socket file that still answers means another daemon owns it. */
export async function listen(options: ListenOptions): Promise<NetServer> {
  const { socketPath } = options;
  checkSocketPath(socketPath);
  await preparePrivateDirectory(dirname(socketPath), options.ownsDirectory);
  for (let attempt = 0; ; attempt++) {
    await clearStaleSocket(socketPath);
    // Half-open: a client may send its requests and end its side, and still read every reply.
    const server = createServer({ allowHalfOpen: true }, (socket) => options.onConnection(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(socketPath, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (err) {
      // Another daemon won the race between our check and our listen: check again.
      if ((err as NodeJS.ErrnoException).code === "EADDRINUSE" && attempt < 2) continue;
      throw err;
    }
    await chmod(socketPath, 0o600);
    return server;
  }
}

/**
 * Stops accepting and removes the socket file at once. The returned promise
 * settles when the last open connection has closed (the caller closes them).
 */
export async function stopAccepting(server: NetServer, socketPath: string): Promise<{ closed: Promise<void> }> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  await unlink(socketPath).catch(() => undefined);
  return { closed };
}

export async function preparePrivateDirectory(dir: string, enforce: boolean): Promise<void> {
  let existed = true;
  try {
    await stat(dir);
  } catch {
    existed = false;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (enforce || !existed) await chmod(dir, 0o700);
}

async function clearStaleSocket(socketPath: string): Promise<void> {
  let info;
  try {
    info = await lstat(socketPath);
  } catch {
    return;
  }
  if (!info.isSocket()) {
    throw new Error(`${socketPath} exists and is not a socket; move it away or choose another --socket`);
  }
  if (await socketAnswers(socketPath)) throw new AlreadyRunningError(null, socketPath);
  await unlink(socketPath).catch(() => undefined);
}

export function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(socketPath);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}
