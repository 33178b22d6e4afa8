/** Output streams and environment of the CLI. Tests pass their own to run it in-process. */
export interface CliIo {
  /** Writes text to standard output, as is. */
  stdout(text: string): void
  /** Writes text to standard error, as is. */
  stderr(text: string): void
  /** Environment variables that supply the defaults of options, such as DATABASE_URL. */
  env: Readonly<Record<string, string | undefined>>
}

/** Returns the streams and environment of this process. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
  }
}

/** Standard output of one command: human-readable lines, or one JSON object with --json. */
export class Output {
  readonly #io: CliIo

  constructor(io: CliIo) {
    this.#io = io
  }

  /** Writes one line of text. */
  line(text = ''): void {
    this.#io.stdout(`${text}\n`)
  }

  /** Writes `value` as JSON on one line, so that scripts can read it with one JSON.parse. */
  json(value: unknown): void {
    this.#io.stdout(`${JSON.stringify(value)}\n`)
  }

  /** Writes text that already ends with its own newline, such as SQL. */
  raw(text: string): void {
    this.#io.stdout(text)
  }
}

/** Returns `value` in double quotes with control characters escaped, so that an id cannot forge output lines. */
export function quote(value: string): string {
  return JSON.stringify(value)
}
