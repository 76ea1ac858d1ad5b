/**
 * The answering side of the handler bench, as its own process; both modes
 * do the same work per call (parse the line, build the result, one
 * JSON.stringify, one socket write per data chunk), so the bench's two
 * paths differ only by the daemon in between:
 *
 *   node handler-peer.js serve PATH          the floor: listens on PATH and answers each
 *                                             request line itself, {event, id, ok: true, data}
 *   node handler-peer.js handle PATH EVENT C  connects to the daemon at PATH, registers as the
 *                                             exclusive handler of EVENT with concurrency C and
 *                                             answers each handler:call with handler:reply
 *
 * The result is {n, score} with n taken from the call's data. SIGTERM ends
 * either mode (exit 0).
 */
import { createConnection, createServer, type Socket } from "node:net";
import { serveLines } from "./serve-lines.js";

const [mode, socketPath, event, concurrency] = process.argv.slice(2);

interface Message {
  event?: unknown;
  id?: unknown;
  data?: { call_id?: unknown; data?: { n?: unknown } } & { n?: unknown };
}

function result(n: unknown): { n: unknown; score: number } {
  return { n, score: 0.5 };
}

/** The floor: a request answered by the process it was sent to. */
function answerDirectly(line: string): string {
  const msg = JSON.parse(line) as Message;
  return JSON.stringify({ event: msg.event, id: msg.id, ok: true, data: result(msg.data?.n) }) + "\n";
}

/** Through the daemon: a handler:call push answered with handler:reply (the daemon's acks of the replies are skipped). */
function answerCall(line: string): string {
  if (!line.startsWith(`{"event":"handler:call"`)) {
    if (line.includes(`"ok":false`)) throw new Error(`the daemon refused: ${line.slice(0, 300)}`);
    return "";
  }
  const msg = JSON.parse(line) as Message;
  return JSON.stringify({ event: "handler:reply", data: { call_id: msg.data?.call_id, ok: true, data: result(msg.data?.data?.n) } }) + "\n";
}

if (mode === "serve" && socketPath !== undefined) {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    serveLines(socket, answerDirectly);
    socket.on("error", () => socket.destroy());
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(socketPath);
  process.on("SIGTERM", () => {
    server.close(() => process.exit(0));
    for (const socket of sockets) socket.end();
  });
} else if (mode === "handle" && socketPath !== undefined && event !== undefined && concurrency !== undefined) {
  const socket = createConnection(socketPath);
  socket.on("connect", () => {
    const register = { events: [event], mode: "exclusive", concurrency: Number(concurrency), max_queue: 10_000, timeout_ms: 60_000 };
    socket.write(JSON.stringify({ event: "handler:register", id: 1, data: register }) + "\n");
  });
  serveLines(socket, answerCall);
  socket.on("error", (err) => {
    process.stderr.write(`handler peer: ${err.message}\n`);
    process.exit(1);
  });
  socket.on("close", () => process.exit(0));
  process.on("SIGTERM", () => socket.end());
} else {
  process.stderr.write("usage: node handler-peer.js serve SOCKET_PATH | handle SOCKET_PATH EVENT CONCURRENCY\n");
  process.exit(2);
}
