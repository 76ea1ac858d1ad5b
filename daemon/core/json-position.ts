/**
 * Where a JSON text first goes wrong (pure). V8's JSON.parse messages give
 * no position for many errors, and SPEC §2 promises `{position}` for
 * invalid_json; this scanner finds it. It runs only after JSON.parse has
 * failed and keeps an explicit stack, so hostile nesting cannot overflow it.
 * Returns null when it finds nothing wrong.
 */
export function jsonErrorPosition(text: string): number | null {
  const stack: string[] = [];
  let expect: "value" | "key" | "after" = "value";
  let i = skipSpace(text, 0);
  for (;; i = skipSpace(text, i)) {
    const c = text[i];
    if (expect === "value") {
      if (c === "{" || c === "[") {
        const close = c === "{" ? "}" : "]";
        i = skipSpace(text, i + 1);
        if (text[i] === close) {
          i++;
          expect = "after";
        } else {
          stack.push(close);
          expect = c === "{" ? "key" : "value";
        }
        continue;
      }
      const end = c === '"' ? stringEnd(text, i) : scalarEnd(text, i);
      if (end.error !== undefined) return end.error;
      i = end.at;
      expect = "after";
    } else if (expect === "key") {
      if (c !== '"') return i;
      const end = stringEnd(text, i);
      if (end.error !== undefined) return end.error;
      i = skipSpace(text, end.at);
      if (text[i] !== ":") return i;
      i++;
      expect = "value";
    } else {
      const close = stack[stack.length - 1];
      if (close === undefined) return i < text.length ? i : null;
      if (c === ",") {
        i++;
        expect = close === "}" ? "key" : "value";
      } else if (c === close) {
        i++;
        stack.pop();
      } else {
        return i;
      }
    }
  }
}

type Scan = { at: number; error?: undefined } | { at?: undefined; error: number };

function stringEnd(text: string, start: number): Scan {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return { at: i + 1 };
    if (c < 0x20) return { error: i };
    if (c === 0x5c) {
      const escape = text[i + 1];
      if (escape === "u") {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return { error: i };
        i += 6;
      } else if (escape !== undefined && '"\\/bfnrt'.includes(escape)) {
        i += 2;
      } else {
        return { error: i };
      }
    } else {
      i++;
    }
  }
  return { error: text.length };
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

function scalarEnd(text: string, start: number): Scan {
  for (const literal of ["true", "false", "null"]) {
    if (text.startsWith(literal, start)) return { at: start + literal.length };
  }
  NUMBER.lastIndex = start;
  const match = NUMBER.exec(text);
  return match === null ? { error: start } : { at: start + match[0].length };
}

function skipSpace(text: string, start: number): number {
  let i = start;
  for (let c = text.charCodeAt(i); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = text.charCodeAt(++i));
  return i;
}
