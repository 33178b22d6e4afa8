import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { DataDirLockedError, LOCK_FILE, lockDataDir } from '../../src/store/data-dir-lock.js'

/** Returns the id of a process that has already exited. */
async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await new Promise((resolve) => child.once('exit', resolve))
  return child.pid!
}

describe('lockDataDir', () => {
  let parent: string
  let dataDir: string

  beforeEach(async () => {
    parent = await mkdtemp(join(tmpdir(), 'jwt-logout-lock-'))
    dataDir = join(parent, 'data')
  })
  afterEach(async () => {
    await rm(parent, { recursive: true, force: true })
  })

  it('creates the folder and the lock', async () => {
    const unlock = await lockDataDir(dataDir)

    expect(await readFile(join(dataDir, LOCK_FILE), 'utf8')).toBe(String(process.pid))
    await unlock()
    await expect(readFile(join(dataDir, LOCK_FILE), 'utf8')).rejects.toThrow(/ENOENT/)
  })

  it('rejects a second lock in this process', async () => {
    const unlock = await lockDataDir(dataDir)

    await expect(lockDataDir(dataDir)).rejects.toBeInstanceOf(DataDirLockedError)
    await unlock()
    const again = await lockDataDir(dataDir)
    await again()
  })

  it('rejects a lock held by a live process', async () => {
    const unlock = await lockDataDir(dataDir)
    await unlock()
    // The parent of this test worker is alive for the whole run.
    await writeFile(join(dataDir, LOCK_FILE), String(process.ppid))

    const error = await lockDataDir(dataDir).catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(DataDirLockedError)
    expect((error as DataDirLockedError).pid).toBe(process.ppid)
    expect((error as DataDirLockedError).message).toContain(`in use by process ${process.ppid}`)
    expect((error as DataDirLockedError).message).toContain('give this one another DATA_DIR')
  })

  it('takes over a stale lock', async () => {
    const unlock = await lockDataDir(dataDir)
    await unlock()
    await writeFile(join(dataDir, LOCK_FILE), String(await exitedPid()))

    const takeover = await lockDataDir(dataDir)

    expect(await readFile(join(dataDir, LOCK_FILE), 'utf8')).toBe(String(process.pid))
    await takeover()
  })

  it('takes over an unreadable lock', async () => {
    const unlock = await lockDataDir(dataDir)
    await unlock()
    await writeFile(join(dataDir, LOCK_FILE), 'not a pid')

    const takeover = await lockDataDir(dataDir)

    expect(await readFile(join(dataDir, LOCK_FILE), 'utf8')).toBe(String(process.pid))
    await takeover()
  })
})
