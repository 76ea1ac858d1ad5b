/**
 * The one-of choice among a group's members (pure, issue 14): the member
 * with the fewest calls in flight (running or queued); among equals, round
 * robin — the first at or after `cursor`, cyclically. The caller keeps the
 * cursor (the index after the last choice) between calls. No allocation:
 * this runs once per call.
 */
export function chooseMember<T>(members: readonly T[], load: (member: T) => number, cursor: number): number {
  const count = members.length;
  if (count === 0) return -1;
  let chosen = -1;
  let least = Infinity;
  const start = cursor % count;
  for (let step = 0; step < count; step++) {
    const index = (start + step) % count;
    const current = load(members[index]!);
    if (current < least) {
      least = current;
      chosen = index;
    }
  }
  return chosen;
}
