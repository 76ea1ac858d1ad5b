/**
 * composition:list: the patterns a page at a time, in name order. A thin
 * handler: the catalog keeps the names in order (model/name-order.ts), so
 * a page is a binary search and a slice however big the store is; the
 * query, the cursor and the fields are model/list-page.ts's. HEAD's tree is
 * read (for dirty) only when dirty is asked for.
 */
import { defineEvent, type EventDef } from "../../core/event.js";
import { decodeCursor, DEFAULT_LIMIT, encodeCursor, fieldsAsked, listQuerySchema } from "./model/list-page.js";
import { checkTypeAsked } from "./model/schema.js";
import { listResult } from "./results.js";
import type { PatternStore } from "./store/pattern-store.js";

export function listEvent(store: PatternStore): EventDef {
  const { catalog } = store;
  return defineEvent({
    name: "composition:list",
    effect: "read",
    summary: "List compositions in name order, a page at a time, optionally of one type",
    description:
      "Each entry: name, type, version, description, path (the file, wherever it is in the store), dirty: true when its file differs from HEAD (an edit not committed yet), " +
      "and warnings: [{path, message}] when the file has data faults that do not stop it being served (a missing parent, a name other than its file name, no description); " +
      "fields: only these (name always comes). " +
      `A page has at most limit entries (default ${DEFAULT_LIMIT}); total: how many there are (of the type, starting with the prefix). next_cursor, absent on the last page: pass it as cursor for the next page. ` +
      "The cursor is the last name given, so patterns created or deleted between pages do not make the others repeat or go missing.",
    params: listQuerySchema,
    result: listResult,
    example: { type: "orchestration", limit: 100 },
    handler: async (data) => {
      checkTypeAsked(data.type, catalog.types());
      const fields = fieldsAsked(data.fields);
      const page = catalog.page(data.limit, data.cursor === undefined ? undefined : decodeCursor(data.cursor), data.type, data.prefix);
      // Reading HEAD's tree is the one cost here beyond the page itself: done only when dirty is asked for.
      const dirty = fields.has("dirty") ? await store.dirtyCheck() : () => false;
      const compositions = page.values.map((entry) => {
        const shown: Record<string, unknown> = { name: entry.name };
        for (const field of fields) {
          if (field === "type" || field === "version" || field === "description" || field === "path") shown[field] = entry[field];
          else if (field === "dirty" && dirty(entry)) shown.dirty = true;
          else if (field === "warnings") {
            const warnings = catalog.warningsOf(entry);
            if (warnings.length > 0) shown.warnings = warnings;
          }
        }
        return shown;
      });
      const last = page.values.at(-1);
      return { compositions, total: page.total, ...(page.more && last !== undefined ? { next_cursor: encodeCursor(last.name) } : {}) };
    },
  });
}
