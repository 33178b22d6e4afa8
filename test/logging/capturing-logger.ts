import type { Logger } from '../../src/logger.js'

/** One call of a Logger method. */
export interface LogRecord {
  level: 'info' | 'warn' | 'error'
  fields: Record<string, unknown>
  message: string
}

/** A Logger that keeps every record, for assertions. */
export class CapturingLogger implements Logger {
  readonly records: LogRecord[] = []

  info(fields: object, message: string): void {
    this.records.push({ level: 'info', fields: fields as Record<string, unknown>, message })
  }

  warn(fields: object, message: string): void {
    this.records.push({ level: 'warn', fields: fields as Record<string, unknown>, message })
  }

  error(fields: object, message: string): void {
    this.records.push({ level: 'error', fields: fields as Record<string, unknown>, message })
  }

  /** Returns the records with the given message. */
  withMessage(message: string): LogRecord[] {
    return this.records.filter((record) => record.message === message)
  }

  /**
   * Returns every record as JSON, errors included with their message, stack,
   * cause and own fields, for searching the logs for text that must not be there.
   */
  serialize(): string {
    return JSON.stringify(this.records, (_key, value: unknown) => (value instanceof Error ? describeError(value) : value))
  }
}

function describeError(error: Error): Record<string, unknown> {
  return { ...error, name: error.name, message: error.message, stack: error.stack, cause: error.cause }
}
