export { createLogger, REDACTED_PATHS } from "./logger.js";
export type { Logger, LoggerOptions } from "./logger.js";
export { connectNats } from "./nats.js";
export type { NatsOptions } from "./nats.js";
