/**
 * The logging calls jwt-logout makes, with pino's argument order: an object
 * of fields first, then the message. A pino logger fits as it is.
 */
export interface Logger {
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
  error(fields: object, message: string): void
}

/** Drops everything: the library logs nothing unless it is given a logger. */
export const SILENT_LOGGER: Logger = {
  info() {},
  warn() {},
  error() {},
}
