/**
 * Incremental NDJSON framing: byte chunks in, complete lines out.
 *
 * Splitting on the 0x0A byte is safe for UTF-8 (no multi-byte sequence
 * contains it), so lines are decoded only once they are complete. A line
 * longer than `maxLineBytes` is reported as soon as the limit is crossed,
 * without buffering the rest of it.
 */
export type FrameResult =
  | { kind: "line"; line: string }
  | { kind: "overflow"; limit: number };

const NEWLINE = 0x0a;

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private overflowed = false;

  constructor(private readonly maxLineBytes: number) {}

  /** Feeds one chunk; returns the frames it completes, in order. After an overflow nothing more is returned. */
  push(chunk: Buffer): FrameResult[] {
    if (this.overflowed) return [];
    const frames: FrameResult[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) break;
      const lineBytes = this.pendingBytes + (nl - start);
      if (lineBytes > this.maxLineBytes) return this.overflow(frames);
      frames.push({ kind: "line", line: this.take(chunk.subarray(start, nl)) });
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (this.pendingBytes + rest.length > this.maxLineBytes) return this.overflow(frames);
      // Copy: the caller may reuse the chunk's memory.
      this.pending.push(Buffer.from(rest));
      this.pendingBytes += rest.length;
    }
    return frames;
  }

  /** Bytes buffered for an unfinished line. */
  get buffered(): number {
    return this.pendingBytes;
  }

  private take(tail: Buffer): string {
    let text: string;
    if (this.pending.length === 0) {
      text = tail.toString("utf8");
    } else {
      this.pending.push(tail);
      text = Buffer.concat(this.pending, this.pendingBytes + tail.length).toString("utf8");
      this.pending = [];
      this.pendingBytes = 0;
    }
    // Tolerate CRLF senders.
    return text.endsWith("\r") ? text.slice(0, -1) : text;
  }

  private overflow(frames: FrameResult[]): FrameResult[] {
    this.overflowed = true;
    this.pending = [];
    this.pendingBytes = 0;
    frames.push({ kind: "overflow", limit: this.maxLineBytes });
    return frames;
  }
}
