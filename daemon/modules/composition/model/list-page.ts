/**
 * composition:list's query (pure): a page of entries in name order, at most
 * `limit` of them, after the name a cursor holds, with the fields asked
 * for. The cursor is the last name of the previous page, so a pattern
 * created or deleted between two pages moves no other entry: the walk
 * neither repeats nor skips one that was there all along. It is opaque to
 * callers (base64url of a versioned prefix and the name), so its form can
 * change without breaking a caller that passes back what it was given.
 *
 * There is no offset: an offset over a store that changes between pages
 * repeats or skips entries, and composition:discover already pages by
 * offset (with its own sort) for a caller that wants to jump.
 */
import { z } from "zod";

export const DEFAULT_LIMIT = 500;
export const MAX_LIMIT = 5_000;

/** What an entry can have, in the order a reply gives them; name always comes. */
export const LIST_FIELDS = ["name", "type", "version", "description", "path", "dirty", "warnings"] as const;
export type ListField = (typeof LIST_FIELDS)[number];

/** What the cursor text starts with once decoded: a later form of cursor gets another. */
const CURSOR_PREFIX = "after1:";
/** Names are far shorter; a longer cursor is not one this daemon gave. */
const MAX_CURSOR = 1_024;

export function encodeCursor(lastName: string): string {
  return Buffer.from(CURSOR_PREFIX + lastName, "utf8").toString("base64url");
}

/** The name a cursor continues after, or undefined when the text is not a cursor encodeCursor made. */
export function decodeCursor(cursor: string): string | undefined {
  if (cursor.length > MAX_CURSOR || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  // Only the canonical form (what encodeCursor gives back for it): stray characters or a cut cursor are refused, not read as another name.
  if (!text.startsWith(CURSOR_PREFIX) || text.length === CURSOR_PREFIX.length || encodeCursor(text.slice(CURSOR_PREFIX.length)) !== cursor) return undefined;
  return text.slice(CURSOR_PREFIX.length);
}

const HOW_TO_PAGE = "pass next_cursor from the previous composition:list reply as it was given, or leave cursor out for the first page";

export const listQuerySchema = z.strictObject({
  type: z.string().min(1).max(32).optional(),
  prefix: z.string().max(128, "prefix is at most 128 characters (a name's length)").optional().describe("only names that start with this, e.g. tour"),
  limit: z
    .number()
    .int("limit is a whole number")
    .min(1, "limit is at least 1")
    .max(MAX_LIMIT, `limit is at most ${MAX_LIMIT}; page with cursor (next_cursor of each reply)`)
    .default(DEFAULT_LIMIT)
    .describe(`entries per page, 1..${MAX_LIMIT} (default ${DEFAULT_LIMIT})`),
  cursor: z
    .string()
    .refine((text) => decodeCursor(text) !== undefined, `not a cursor composition:list gave: ${HOW_TO_PAGE}`)
    .optional()
    .describe("next_cursor of the previous reply: the page after it, in name order"),
  fields: z
    .array(z.enum(LIST_FIELDS, { error: `a field is one of ${LIST_FIELDS.join(", ")}` }))
    .min(1, `name at least (name always comes); fields are ${LIST_FIELDS.join(", ")}`)
    .optional()
    .describe(`which fields each entry has (name always comes); default all of ${LIST_FIELDS.join(", ")}`),
});
export type ListQuery = z.infer<typeof listQuerySchema>;

/** The fields to give, in reply order, name first. */
export function fieldsAsked(fields: readonly ListField[] | undefined): ReadonlySet<ListField> {
  if (fields === undefined) return new Set(LIST_FIELDS);
  const asked = new Set<ListField>(fields);
  return new Set(LIST_FIELDS.filter((field) => field === "name" || asked.has(field)));
}
