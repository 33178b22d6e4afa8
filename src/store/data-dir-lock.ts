import { mkdir, open, readFile, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'

/** Name of the lock file inside an embedded database folder. */
export const LOCK_FILE = 'jwt-logout.lock'

/** Folders this process has locked, because the lock file cannot tell two opens in one process apart. */
const lockedHere = new Set<string>()

/** Another running process, or this one, has the embedded database folder open. */
export class DataDirLockedError extends Error {
  readonly code = 'data_dir_locked'
  readonly dataDir: string
  /** Process id of the holder. */
  readonly pid: number

  constructor(dataDir: string, pid: number) {
    super(
      `The embedded database in ${dataDir} is in use by process ${pid}. ` +
        'PGlite can be opened by one process at a time: stop that process, give this one another DATA_DIR, ' +
        'or set DATABASE_URL to share a PostgreSQL server between processes.',
    )
    this.name = 'DataDirLockedError'
    this.dataDir = dataDir
    this.pid = pid
  }
}

/**
 * Takes an exclusive lock on an embedded database folder, creating the folder
 * if needed, and returns the function that releases it. The lock is a file
 * with the holder's process id. Two PGlite instances
 * on one folder each keep their own copy in memory and overwrite each other's
 * writes, so logouts would be lost. A lock left by a process that no longer
 * runs is taken over.
 * @throws DataDirLockedError when a live process holds the lock.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const folder = resolve(dataDir)
  if (lockedHere.has(folder)) throw new DataDirLockedError(dataDir, process.pid)

  await mkdir(folder, { recursive: true })
  const lockPath = join(folder, LOCK_FILE)

  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(lockPath, 'wx')
      await file.writeFile(String(process.pid))
      await file.close()
      lockedHere.add(folder)
      return async () => {
        lockedHere.delete(folder)
        await releaseLock(lockPath)
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }

    const holder = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10)
    // A file with this process's id is left from an earlier run that had the same id.
    if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && isRunning(holder)) {
      throw new DataDirLockedError(dataDir, holder)
    }
    // The holder is gone (or the file is unreadable): remove the stale lock and try once more.
    await unlink(lockPath).catch(() => {})
  }
  throw new Error(`Failed to lock ${lockPath}: another process keeps creating it`)
}

async function releaseLock(lockPath: string): Promise<void> {
  const holder = await readFile(lockPath, 'utf8').catch(() => '')
  if (holder === String(process.pid)) await unlink(lockPath).catch(() => {})
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
