/**
 * This daemon's id among the daemons of a NATS link (issue 19): random,
 * made on the first start with --nats and kept in var/lib/daemon-id (0600),
 * so the daemon is the same origin across restarts. A file that does not
 * hold an id (edited, truncated) is replaced, with a warning.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { writeAtomic } from "../../core/atomic-file.js";
import type { Log } from "../../core/log.js";

const DAEMON_ID = /^d_[0-9a-f]{16}$/;

export async function loadDaemonId(path: string, log: Log): Promise<string> {
  let text: string | undefined;
  try {
    text = (await readFile(path, "utf8")).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  if (text !== undefined && DAEMON_ID.test(text)) return text;
  if (text !== undefined) log.warn({ path }, "daemon-id does not hold an id; a new one is made");
  const id = `d_${randomBytes(8).toString("hex")}`;
  await writeAtomic(path, `${id}\n`);
  return id;
}
