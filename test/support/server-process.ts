import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

/** One line of pino's JSON output. */
export interface LogLine {
  level: number
  msg: string
  [field: string]: unknown
}

/**
 * The compiled demo server running as a child process, with its output kept
 * for assertions. Its environment is PATH plus the variables given to `start`.
 */
export class ServerProcess {
  readonly #child: ChildProcess
  readonly #exited: Promise<number | null>
  #stdout = ''
  #stderr = ''
  #waiters: Array<() => void> = []
  /** True once the process has exited and its output streams are read to the end. */
  #closed = false

  private constructor(child: ChildProcess) {
    this.#child = child
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.#append('stdout', chunk))
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.#append('stderr', chunk))
    this.#exited = new Promise((resolve) => {
      child.once('close', (code) => {
        this.#closed = true
        resolve(code)
        this.#notify()
      })
    })
  }

  /** Starts `node scriptPath` with `env` on top of PATH. */
  static start(scriptPath: string, env: Record<string, string>): ServerProcess {
    const child = spawn(process.execPath, [scriptPath], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    return new ServerProcess(child)
  }

  /** Everything the process wrote to stdout and stderr so far. */
  get output(): string {
    return this.#stdout + this.#stderr
  }

  /** The complete JSON log lines on stdout so far. */
  get logs(): LogLine[] {
    const lines = this.#stdout.split('\n').slice(0, -1)
    return lines.map((line) => JSON.parse(line) as LogLine)
  }

  /**
   * Resolves with the first log line whose `msg` is `message`. Rejects when
   * the process exits first or `timeoutMs` passes, with the output so far.
   */
  async waitForLog(message: string, timeoutMs: number): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const line = this.logs.find((log) => log.msg === message)
      if (line !== undefined) return line
      if (this.#closed) {
        throw new Error(`The server exited before logging ${JSON.stringify(message)}:\n${this.output}`)
      }
      const remaining = deadline - Date.now()
      if (remaining <= 0) {
        throw new Error(`The server did not log ${JSON.stringify(message)} within ${timeoutMs} ms:\n${this.output}`)
      }
      await this.#nextOutput(remaining)
    }
  }

  /**
   * Sends SIGTERM and resolves with the exit code. Kills the process and
   * rejects when it has not exited after `timeoutMs`.
   */
  async stop(timeoutMs: number): Promise<number | null> {
    this.#child.kill('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        this.#child.kill('SIGKILL')
        reject(new Error(`The server did not exit within ${timeoutMs} ms of SIGTERM:\n${this.output}`))
      }, timeoutMs)
    })
    try {
      return await Promise.race([this.#exited, timedOut])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Kills the process if it still runs, for cleanup after a failed test. */
  kill(): void {
    if (!this.#closed) this.#child.kill('SIGKILL')
  }

  #append(stream: 'stdout' | 'stderr', chunk: string): void {
    if (stream === 'stdout') this.#stdout += chunk
    else this.#stderr += chunk
    this.#notify()
  }

  #notify(): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const wake of waiters) wake()
  }

  /** Resolves on the next output or exit, or after `timeoutMs`. */
  #nextOutput(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      this.#waiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago, found by listening on port 0. */
export async function findFreePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('the probe server has no TCP address')
  return address.port
}
