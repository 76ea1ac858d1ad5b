/**
 * The store's labels (issue 17): labels.yaml at the store's root, read
 * from the work tree on every use (small, and so a person's edit or commit
 * of it is what the next request sees), moved by one commit each through
 * the pattern store's writer (files.ts writes it, git.ts commits it, with
 * `Op: label` trailers), so `git log -- labels.yaml` is the history of
 * every move. A labels.yaml that does not parse or validate is reported
 * (invalid_params naming the file, the place and the right form) by
 * whatever needs a label; everything else keeps working.
 */
import { DaemonError } from "../../../core/errors.js";
import type { Issue } from "../model/document.js";
import {
  describeTarget,
  findLabel,
  LABELS_FORM,
  LABELS_PATH,
  normaliseSplit,
  parseLabelsFile,
  sameTarget,
  withMove,
  type Label,
  type LabelBook,
  type Target,
} from "../model/labels.js";
import { pickArm } from "../model/label-split.js";
import { LATEST, parseRef, type Ref } from "../model/ref.js";
import { parseTrailers, formatCommitMessage } from "../model/trailers.js";
import { compareVersions } from "../model/version.js";
import type { PatternStore } from "./pattern-store.js";

export interface MoveInput {
  name: string;
  label: string;
  version?: string | undefined;
  split?: Record<string, number> | undefined;
  reason?: string | undefined;
  force?: boolean | undefined;
  protected?: boolean | undefined;
}

export interface Move {
  name: string;
  label: string;
  target: Target;
  previous: Target | null;
  protected: boolean;
  commit: string | null;
  unchanged?: true;
}

export interface LabelMove {
  commit: string;
  date: string;
  author: string;
  /** label (the daemon's), or manual (a person's commit of labels.yaml). */
  op: string;
  from: Target | null;
  to: Target | null;
  protected: boolean;
  agent?: string;
  reason?: string;
  forced?: true;
}

export interface Resolved {
  ref: string;
  name: string;
  version: string;
  label?: string;
  /** A split label: the arm the key gets, as name@version. */
  arm?: string;
}

export class StoreLabels {
  constructor(private readonly store: PatternStore) {}

  /** The labels as the file now holds them; invalid_params naming the file when it does not parse or validate. */
  list(): LabelBook {
    const file = this.readFile();
    if (!file.parsed.ok) throw broken(file.parsed.issues);
    return file.parsed.labels;
  }

  /** What is wrong with the file (none: []), for start-up and reload to report. */
  problems(): Issue[] {
    try {
      const parsed = this.readFile().parsed;
      return parsed.ok ? [] : parsed.issues;
    } catch (err) {
      return [{ path: "", message: (err as Error).message }];
    }
  }

  /**
   * An exact ref for `ref`: a label resolved to the version it points at
   * (`latest`: the current file), anything else as it is. A split label
   * names no one version: invalid_params pointing at composition:resolve.
   */
  exact(ref: Ref): Ref {
    if (ref.label === undefined) return ref;
    if (ref.label === LATEST) return { name: ref.name };
    const found = this.require(ref.name, ref.label);
    if (typeof found.target !== "string") {
      throw new DaemonError(
        "invalid_params",
        `${ref.name}@${ref.label} is a split (${describeTarget(found.target)}): it names no one version; ` +
          `pick the arm for a caller with composition:resolve {ref: "${ref.name}@${ref.label}", key: RUN_ID}, or name one of its arms`,
        { ref: `${ref.name}@${ref.label}`, split: found.target.split, hint: "composition:resolve" },
      );
    }
    return { name: ref.name, version: found.target };
  }

  /** What `text` names for the caller `key`: a split's arm by the key's hash (the same key, the same arm). */
  async resolve(text: string, key: string | undefined): Promise<Resolved> {
    const ref = parseRef(text);
    if (ref.label === undefined || ref.label === LATEST) {
      const version = ref.version ?? this.store.require(ref.name).version;
      if (ref.version !== undefined) await this.requireVersion(ref.name, ref.version);
      return { ref: text, name: ref.name, version, ...(ref.label === undefined ? {} : { label: ref.label }) };
    }
    const found = this.require(ref.name, ref.label);
    if (typeof found.target === "string") return { ref: text, name: ref.name, version: found.target, label: ref.label };
    if (key === undefined) {
      throw new DaemonError("invalid_params", `${text} is a split (${describeTarget(found.target)}): give key (the run id, say) to pick its arm; the same key always gets the same arm`, {
        issues: [{ path: "key", message: "required for a split label" }],
      });
    }
    const arm = pickArm(found.target.split, `${ref.name}@${ref.label}`, key);
    const picked = parseRef(arm);
    return { ref: text, name: picked.name, version: picked.version!, label: ref.label, arm };
  }

  /** Moves (or makes) a label: one commit with Op: label trailers; nothing when it already points there. */
  move(input: MoveInput, agentId: string | undefined): Promise<Move> {
    return this.store.git.exclusive(async () => {
      const file = this.readFile();
      if (!file.parsed.ok) throw broken(file.parsed.issues);
      const { name, label } = input;
      const existing = findLabel(file.parsed.labels, name, label);
      const target = await this.target(input);
      const previous = existing?.target ?? null;
      const isProtected = input.protected ?? existing?.protected ?? false;
      const reply = { name, label, target, previous, protected: isProtected };
      if (existing !== undefined && sameTarget(previous, target) && isProtected === existing.protected) {
        return { ...reply, commit: (await this.store.git.log(LABELS_PATH, 1))[0]?.commit ?? null, unchanged: true as const };
      }
      const forced = existing?.protected === true;
      if (forced && (input.force !== true || input.reason === undefined)) {
        throw new DaemonError(
          "conflict",
          `${name}@${label} is protected (labels.yaml): moving it needs force: true and a reason ` +
            `(pat label ${name} ${label} ${describeTarget(target).startsWith("split") ? "..." : describeTarget(target)} --force --reason "why")`,
          { name, label, target: previous, protected: true, missing: [...(input.force === true ? [] : ["force"]), ...(input.reason === undefined ? ["reason"] : [])] },
        );
      }
      const text = withMove({ document: file.parsed.document, text: file.text }, name, label, target, input.protected);
      const message = formatCommitMessage({
        subject: `label: ${name}@${label} -> ${describeTarget(target)}`,
        trailers: {
          Op: "label",
          Pattern: name,
          Label: label,
          From: describeTarget(previous),
          To: describeTarget(target),
          ...(input.protected === undefined ? {} : { Protected: String(input.protected) }),
          ...(forced ? { Forced: "true" } : {}),
          Agent: agentId ?? "",
          Reason: input.reason ?? "",
        },
      });
      const commit = await this.store.commitFiles([{ path: LABELS_PATH, text }], message, agentId, undefined);
      return { ...reply, commit };
    });
  }

  /**
   * The moves of one label, newest first, from `git log -- labels.yaml`:
   * each commit's file is read (one `git cat-file --batch`) and compared
   * with the one before, so a person's commit of the file counts as well
   * as the daemon's; the trailers add who asked and why.
   */
  async history(name: string, label: string): Promise<LabelMove[]> {
    const commits = await this.store.git.log(LABELS_PATH);
    const texts = await this.store.git.blobs(commits.map((c) => `${c.commit}:${LABELS_PATH}`));
    const moves: LabelMove[] = [];
    let before: Label | undefined;
    for (const entry of [...commits].reverse()) {
      const parsed = parseLabelsFile(texts.get(`${entry.commit}:${LABELS_PATH}`));
      // A commit that left the file broken moved nothing that can be said; the next good one is compared with the last good one.
      if (!parsed.ok) continue;
      const now = findLabel(parsed.labels, name, label);
      const trailers = parseTrailers(entry.message);
      const named = trailers.Op === "label" && trailers.Pattern === name && trailers.Label === label;
      if (sameTarget(before?.target ?? null, now?.target ?? null) && (before?.protected ?? false) === (now?.protected ?? false) && !named) continue;
      moves.push({
        commit: entry.commit,
        date: entry.date,
        author: entry.author,
        op: trailers.Op ?? "manual",
        from: before?.target ?? null,
        to: now?.target ?? null,
        protected: now?.protected ?? false,
        ...(named && trailers.Agent !== undefined ? { agent: trailers.Agent } : {}),
        ...(named && trailers.Reason !== undefined ? { reason: trailers.Reason } : {}),
        ...(named && trailers.Forced === "true" ? { forced: true as const } : {}),
      });
      before = now;
    }
    if (moves.length === 0) this.require(name, label);
    return moves.reverse();
  }

  /** The file as the work tree has it (a link there is unsafe_path, as for any store file). */
  private readFile(): { text: string | undefined; parsed: ReturnType<typeof parseLabelsFile> } {
    const text = this.store.files.read(LABELS_PATH);
    return { text, parsed: parseLabelsFile(text) };
  }

  private require(name: string, label: string): Label {
    const labels = this.list();
    const found = findLabel(labels, name, label);
    if (found !== undefined) return found;
    const others = labels.filter((l) => l.name === name).map((l) => l.label);
    throw new DaemonError(
      "not_found",
      `${name} has no label ${label}` +
        (others.length > 0 ? `; its labels: ${others.join(", ")}` : "") +
        ` (make it with composition:label {name: "${name}", label: "${label}", version}, or name a version: ${name}@1.2.0)`,
      { name, label, labels: others },
    );
  }

  /** The target a move asks for, each version checked to exist (its tag). */
  private async target(input: MoveInput): Promise<Target> {
    if (input.version !== undefined) {
      await this.requireVersion(input.name, input.version);
      return input.version;
    }
    const split = normaliseSplit(input.split!);
    if (split === null) {
      throw new DaemonError("invalid_params", "a split's weights are positive and none is under a millionth of their sum", { issues: [{ path: "split", message: "a weight rounds to 0" }] });
    }
    for (const arm of Object.keys(split)) {
      const ref = parseRef(arm);
      await this.requireVersion(ref.name, ref.version!);
    }
    return { split };
  }

  private async requireVersion(name: string, version: string): Promise<void> {
    if (this.store.git.tagExists(`${name}@${version}`)) return;
    const versions = (await this.store.git.tags(`${name}@*`)).map((t) => t.slice(name.length + 1)).sort(compareVersions);
    // No version at all: perhaps no such pattern (not_found with suggestions).
    if (versions.length === 0) this.store.require(name);
    throw new DaemonError("not_found", `no version ${name}@${version}${versions.length > 0 ? `; versions: ${versions.join(", ")}` : ""}`, { name, versions });
  }
}

/** invalid_params for a labels.yaml that does not parse or validate: where, what, and the right form. */
function broken(issues: Issue[]): DaemonError {
  const first = issues[0];
  const where = first === undefined || first.path === "" ? "" : ` at ${first.path}`;
  return new DaemonError(
    "invalid_params",
    `${LABELS_PATH} in the store is not valid${where}: ${first?.message ?? "unknown problem"}. ${LABELS_FORM}. ` +
      `Fix the file by hand (git log -p -- ${LABELS_PATH} shows what it held); versions named exactly keep working meanwhile`,
    { path: LABELS_PATH, issues },
  );
}
