import { it } from "vitest";
import { YamlDocument } from "./document.js";
import { diffLines } from "./line-diff.js";

const src = `# Header comment
name: demo
type: orchestration
version: 1.0.0  # bump me
description: A demo   # trailing comment
metadata:
  # tags comment
  tags: [a, b]
  selection_criteria:
    participants: {min: 2, max: 8}
    latency: low  # fast
agents:
  - id: worker
    profile: researcher  # who
routing:
  rules:
    - from: worker
      to: judge
variables:
  rounds:
    type: integer
    default: 3
`;
function show(label: string, f: (d: YamlDocument) => void) {
  const p = YamlDocument.parse(src);
  if (!p.ok) throw new Error(JSON.stringify(p.issues));
  f(p.document);
  const out = p.document.toString();
  const ops = diffLines(src.split("\n"), out.split("\n"))!;
  console.log("---", label);
  for (const op of ops) if (op.op !== "equal") console.log(op.op, op.op === "delete" ? src.split("\n")[op.a] : out.split("\n")[op.b]);
}
it("probe", () => {
  show("version", (d) => d.applyObject({ ...d.data, version: "1.1.0" }));
  show("desc", (d) => d.applyObject({ ...d.data, description: "Other" }));
  show("add", (d) => d.applyObject({ ...d.data, author: "me" }));
  show("remove", (d) => { const x = { ...d.data }; delete x.routing; d.applyObject(x); });
  show("flow", (d) => d.applyObject({ ...d.data, metadata: { ...(d.data.metadata as object), tags: ["a", "b", "c"] } }));
  show("nested", (d) => d.applyObject({ ...d.data, metadata: { ...(d.data.metadata as object), selection_criteria: { participants: { min: 3, max: 8 }, latency: "low" } } }));
  show("nested2", (d) => d.applyObject({ ...d.data, variables: { rounds: { type: "integer", default: 5 } } }));
  show("set", (d) => d.set(["version"], "2.0.0"));
  show("setnew", (d) => d.set(["metadata", "owner"], "x"));
  for (const t of ["a: !!js/function 'function(){}'\n", "a: !custom x\n", "a: 1\na: 2\n", "a: [1\nb: 2\n", "- a\n", "hello\n", "", "a: b: c\n"]) {
    const r = YamlDocument.parse(t); console.log(JSON.stringify(t), JSON.stringify(r.ok ? r.document.data : r.issues));
  }
  const bomb = ["a: &a [x,x,x,x,x,x,x,x,x,x]"]; for (let i = 0; i < 9; i++) bomb.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`);
  const t0 = Date.now(); const r = YamlDocument.parse(bomb.join("\n")); console.log(Date.now() - t0, JSON.stringify(r.ok ? "OK" : r.issues));
  const big = "a: " + "x".repeat(1024 * 1024 - 4) + "\n"; console.log(Buffer.byteLength(big), YamlDocument.parse(big).ok);
});
