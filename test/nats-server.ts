/**
 * A real nats-server for the NATS end-to-end tests (issue 19): one per test
 * file, on a free port of 127.0.0.1, killed after. The binary is Debian's
 * `nats-server` (on PATH, or /usr/sbin). Where it is absent the tests are
 * skipped and say why, unless PATTERND_REQUIRE_NATS=1 (CI sets it), which
 * makes its absence a failure.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { delimiter, join } from "node:path";
import { waitFor } from "./harness.js";

export const NATS_SERVER: string | undefined = findBinary();

/** Why the NATS tests are skipped here, or undefined when they run. Throws when they must run (PATTERND_REQUIRE_NATS=1) and cannot. */
export function natsSkipReason(): string | undefined {
  if (NATS_SERVER !== undefined) return undefined;
  const why = "nats-server is not installed (looked on PATH and in /usr/sbin); install it with `apt-get install nats-server` to run the NATS tests";
  if (process.env.PATTERND_REQUIRE_NATS === "1") throw new Error(`PATTERND_REQUIRE_NATS=1 but ${why}`);
  return why;
}

export class NatsServer {
  private child: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  static async start(port?: number): Promise<NatsServer> {
    const server = new NatsServer(port ?? (await freePort()));
    await server.restart();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts it (again) on its port and waits until it accepts connections. */
  async restart(): Promise<void> {
    if (this.child !== null) throw new Error("nats-server is already running");
    const child = spawn(NATS_SERVER!, ["-a", "127.0.0.1", "-p", String(this.port)], { stdio: "ignore" });
    this.child = child;
    child.once("exit", () => {
      if (this.child === child) this.child = null;
    });
    await waitFor(`nats-server to accept on port ${this.port}`, () => accepts(this.port), 10_000, 20);
  }

  /** SIGKILL, and waits for it to be gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await exited;
    this.child = null;
  }
}

function findBinary(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/bin"];
  return dirs.map((dir) => join(dir, "nats-server")).find((path) => path.startsWith("/") && existsSync(path));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
