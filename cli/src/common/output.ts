import { stringify } from "yaml";
import type { Format } from "./args.js";

/** Columns padded like kubectl's tables (three spaces between columns, no trailing blanks). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3)))
        .join("")
        .trimEnd(),
    )
    .join("\n");
}

/** Data as JSON or YAML (for scripts), or the table the plugin built. */
export function render(output: Format | undefined, data: unknown, tableText: () => string): string {
  if (output === "json") return `${JSON.stringify(data, null, 2)}\n`;
  if (output === "yaml") return stringify(data);
  return `${tableText()}\n`;
}
