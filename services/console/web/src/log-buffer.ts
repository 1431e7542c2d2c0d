/** The log text kept on the page: the newest LOG_LIMIT characters, cut at a line start. Pure. */
export const LOG_LIMIT = 200_000;

export function appendLog(text: string, chunk: string, limit = LOG_LIMIT): string {
  const all = text + chunk;
  if (all.length <= limit) return all;
  const cut = all.indexOf("\n", all.length - limit);
  return cut < 0 ? all.slice(all.length - limit) : all.slice(cut + 1);
}
