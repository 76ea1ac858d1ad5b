/**
 * Every page of composition:list, first to last: the daemon answers at most
 * a page (default 500 entries) per request, with next_cursor until the last.
 * The cursor holds the last name given, so patterns created or deleted
 * during the walk do not make the others repeat or go missing.
 */
import type { Client } from "./client.js";

export interface ListPage<T> {
  compositions: T[];
  /** How many patterns there are (of the type asked for) when the page was read. */
  total: number;
  next_cursor?: string;
}

/** Pages of composition:list for `query` (type, limit, fields; no cursor), as they come. */
export async function* listPages<T = Record<string, unknown>>(client: Client, query: Record<string, unknown> = {}): AsyncGenerator<ListPage<T>> {
  let cursor: string | undefined;
  do {
    const page: ListPage<T> = await client.request<ListPage<T>>("composition:list", cursor === undefined ? query : { ...query, cursor });
    yield page;
    cursor = page.next_cursor;
  } while (cursor !== undefined);
}
