/**
 * The line loop of the bench's floor processes (echo-server.ts, handler-peer.ts):
 * every complete line of a socket's input goes to `answer`, and what one
 * chunk's lines produce goes out in one write.
 */
import type { Socket } from "node:net";

export function serveLines(socket: Socket, answer: (line: string) => string): void {
  socket.setEncoding("utf8");
  let buffered = "";
  socket.on("data", (chunk: string) => {
    buffered += chunk;
    let out = "";
    let start = 0;
    for (let nl = buffered.indexOf("\n"); nl !== -1; nl = buffered.indexOf("\n", start)) {
      out += answer(buffered.slice(start, nl));
      start = nl + 1;
    }
    buffered = buffered.slice(start);
    if (out.length > 0) socket.write(out);
  });
}
