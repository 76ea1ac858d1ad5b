/**
 * state.json: loaded once at start, saved atomically after each change.
 * Saves that arrive while one is being written are coalesced into the next
 * write; each caller resolves once a write containing its change is durable.
 * A write that fails (a full disk: `unavailable`) reports the state it tried
 * to write and the last one on disk, so the changes it held can be dropped;
 * one that succeeds says so at once, so they can be shown.
 */
import { readFile } from "node:fs/promises";
import { writeAtomic } from "../../core/atomic-file.js";

export class StateFile {
  private writing: Promise<void> | null = null;
  private next: Promise<void> | null = null;

  /** The state as the file holds it (what a failed write falls back to). */
  private durable: Record<string, unknown> = {};

  constructor(
    private readonly path: string,
    private readonly snapshot: () => Record<string, unknown>,
    private readonly onFailed: (attempted: Record<string, unknown>, durable: Record<string, unknown>) => void = () => undefined,
    /** Called as soon as a write is durable, before any later write takes its snapshot. */
    private readonly onWritten: (written: Record<string, unknown>) => void = () => undefined,
  ) {}

  /** The parsed file ({} when there is none yet); what it holds is for the caller to judge. */
  async load(): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw err;
    }
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) this.durable = parsed as Record<string, unknown>;
    return parsed;
  }

  /** Resolves when the state as it is now is on disk. */
  save(): Promise<void> {
    if (this.writing === null) {
      this.writing = this.write().finally(() => (this.writing = null));
      return this.writing;
    }
    // A write is in flight and may predate this change: join (or start) the one after it.
    this.next ??= this.writing.catch(() => undefined).then(() => {
      this.next = null;
      return this.save();
    });
    return this.next;
  }

  /** Async, so a snapshot that throws rejects the callers instead of throwing out of save(). */
  private async write(): Promise<void> {
    const attempted = this.snapshot();
    try {
      await writeAtomic(this.path, JSON.stringify(attempted, null, 1) + "\n");
    } catch (err) {
      this.onFailed(attempted, this.durable);
      throw err;
    }
    this.durable = attempted;
    this.onWritten(attempted);
  }
}
