import { pino, type Logger } from "pino";

export type { Logger } from "pino";

export interface LoggerOptions {
  /** The service's role noun, e.g. "helmer"; every line carries it. */
  readonly service: string;
  readonly level?: string;
  /** Where lines go; standard output by default. Tests pass a stream to assert on what is logged. */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * Paths never written to the log: kubeconfigs, tokens, keys and authorization headers, wherever they appear
 * (top level, or one level down such as `req.headers.authorization`).
 */
export const REDACTED_PATHS: readonly string[] = [
  "token",
  "*.token",
  "kubeconfig",
  "*.kubeconfig",
  "keyPem",
  "*.keyPem",
  "privateKey",
  "*.privateKey",
  "password",
  "*.password",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
];

/** The one root logger of a service (created in main.ts and passed down; no module-level singletons). */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      base: { service: options.service },
      level: options.level ?? "info",
      redact: { paths: [...REDACTED_PATHS], censor: "[REDACTED]" },
      serializers: { err: pino.stdSerializers.err },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? process.stdout,
  );
}
