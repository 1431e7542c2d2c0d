/** Error codes a service may answer with (the `code` of the reply envelope). */
export const ErrorCode = {
  BadRequest: "BadRequest",
  ChartUnavailable: "ChartUnavailable",
  ChartInvalid: "ChartInvalid",
  RenderFailed: "RenderFailed",
  Unavailable: "Unavailable",
  Timeout: "Timeout",
  Internal: "Internal",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A typed error that crossed the wire (or a transport failure), never a thrown stack from another service. */
export class ContractError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ContractError";
    this.code = code;
  }
}
