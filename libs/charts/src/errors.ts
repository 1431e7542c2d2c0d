/** Why a chart was refused; `code` is stable for callers, the message says what to change. */
export const ChartErrorCode = {
  Unavailable: "ChartUnavailable",
  Invalid: "ChartInvalid",
  RenderFailed: "RenderFailed",
} as const;
export type ChartErrorCode = (typeof ChartErrorCode)[keyof typeof ChartErrorCode];

export class ChartError extends Error {
  readonly code: ChartErrorCode;

  constructor(code: ChartErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ChartError";
    this.code = code;
  }
}
