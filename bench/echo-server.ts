/**
 * The floor for any NDJSON server in Node: a Unix-socket server that parses
 * each request line and answers `{"event":E,"id":X,"ok":true,"data":{}}`,
 * one socket write per data chunk. No routing, validation, logging or
 * ordering machinery. Run as its own process: `node echo-server.js PATH`;
 * SIGTERM closes it (exit 0).
 */
import { createServer, type Socket } from "node:net";
import { serveLines } from "./serve-lines.js";

const socketPath = process.argv[2];
if (socketPath === undefined) {
  process.stderr.write("usage: node echo-server.js SOCKET_PATH\n");
  process.exit(2);
}

const sockets = new Set<Socket>();

const server = createServer((socket) => {
  sockets.add(socket);
  serveLines(socket, (line) => {
    let reply: object;
    try {
      const msg = JSON.parse(line) as { event?: unknown; id?: unknown };
      reply = { event: msg.event ?? null, id: msg.id ?? null, ok: true, data: {} };
    } catch {
      reply = { event: null, id: null, ok: false, error: { code: "invalid_json" } };
    }
    return JSON.stringify(reply) + "\n";
  });
  socket.on("error", () => socket.destroy());
  socket.on("close", () => sockets.delete(socket));
});

server.listen(socketPath);

process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  for (const socket of sockets) socket.end();
});
