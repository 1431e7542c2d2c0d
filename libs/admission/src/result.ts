/** One problem with an object: where, and what to change. */
export interface FieldError {
  readonly path: string;
  readonly detail: string;
}

export interface ValidationResult {
  readonly errors: FieldError[];
  readonly warnings: string[];
}

/** One message listing every problem, as users see it in kubectl errors and in status conditions. */
export function describeProblems(subject: string, errors: readonly FieldError[]): string {
  const count = errors.length;
  return `${subject} was refused (${count} problem${count > 1 ? "s" : ""}):\n${errors.map((e) => `  - ${e.path}: ${e.detail}`).join("\n")}`;
}
