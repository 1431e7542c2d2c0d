/**
 * A refused change, read from the apiserver's Status: the webhook's problem lines (`  - spec.<path>: <detail>`) and
 * the schema's details.causes[].field, each placed next to the form field it names (or the nearest enclosing field
 * the form shows), the rest at the top of the form. Pure.
 */
import { arr, str } from "./read.js";

export interface Problem {
  /** The field the problem names (`spec.replicas`, `metadata.name`), when it names one. */
  readonly field?: string;
  readonly message: string;
}

export interface Refusal {
  /** What the Status says before its problem lines (the webhook's "... was refused (2 problems):"). */
  readonly summary: string;
  readonly problems: readonly Problem[];
}

const LINE = /^\s+- ([^\s:]+): (.*)$/;

/** Reads a Status (or any {message} error body) into its summary and its problems. */
export function parseRefusal(body: unknown): Refusal {
  const message = str(body, "message");
  const { summary, problems } = parseLines(message);
  const causes = causesOf(body);
  for (const cause of causes) {
    const field = str(cause, "field");
    const text = str(cause, "message");
    if (!text || problems.some((p) => p.field === field && p.message === text)) continue;
    problems.push(field ? { field, message: text } : { message: text });
  }
  let text = summary.join(" ");
  // A schema refusal repeats every cause after "is invalid:"; the causes are shown by their fields.
  const invalid = text.indexOf(" is invalid: ");
  if (invalid > 0 && causes.length > 0) text = text.slice(0, invalid + " is invalid".length);
  return { summary: text, problems };
}

/** The webhook's problem lines (`  - <field>: <detail>`, continued on lines indented further) and the rest. */
function parseLines(message: string): {
  summary: string[];
  problems: { field?: string; message: string }[];
} {
  const summary: string[] = [];
  const problems: { field?: string; message: string }[] = [];
  for (const line of message.split("\n")) {
    const m = LINE.exec(line);
    const last = problems[problems.length - 1];
    if (m) problems.push({ field: m[1] ?? "", message: m[2] ?? "" });
    else if (last && /^\s{4,}\S/.test(line)) last.message += ` ${line.trim()}`;
    else if (line.trim()) summary.push(line.trim());
  }
  return { summary, problems };
}

function causesOf(status: unknown): readonly unknown[] {
  return arr(status, "details", "causes");
}

export interface PlacedRefusal {
  /** Messages per form field path. */
  readonly byField: ReadonlyMap<string, readonly string[]>;
  /** What goes at the top of the form: the summary, and problems of fields the form does not show. */
  readonly top: readonly string[];
}

/**
 * Puts each problem next to the form field it names: the field itself when the form shows it, else the nearest
 * enclosing field the form shows (`spec.db.users[3].name` -> `spec.db.users`), else at the top with its path.
 */
export function placeProblems(refusal: Refusal, formPaths: readonly string[]): PlacedRefusal {
  const known = new Set(formPaths);
  const byField = new Map<string, string[]>();
  const top: string[] = refusal.summary ? [refusal.summary] : [];
  for (const p of refusal.problems) {
    const at = p.field ? nearestKnown(p.field, known) : undefined;
    if (at === undefined) {
      top.push(p.field ? `${p.field}: ${p.message}` : p.message);
      continue;
    }
    const text = at === p.field ? p.message : `${p.field ?? ""}: ${p.message}`;
    byField.set(at, [...(byField.get(at) ?? []), text]);
  }
  return { byField, top };
}

function nearestKnown(field: string, known: ReadonlySet<string>): string | undefined {
  let path = field;
  for (;;) {
    if (known.has(path)) return path;
    const cut = Math.max(path.lastIndexOf("."), path.lastIndexOf("["));
    if (cut <= 0) return undefined;
    path = path.slice(0, cut);
  }
}
