import { randomBytes } from 'node:crypto'
import { mkdir, readdir, stat, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { MediaPurpose } from '@sm/contracts'

/** Where each purpose's bytes live under MEDIA_ROOT. */
export const PURPOSE_DIRS: Record<MediaPurpose, string> = {
  avatar: 'profilepics',
  post: 'posts_media',
  chat: 'chat-media',
}

const TEMP_PREFIX = '.upload-'

/**
 * Bytes on disk. File names are 128 random bits in hex: never derived from anything the
 * client sent, so names cannot traverse, collide or be guessed. Uploads are written to a
 * dot-file in the target directory and renamed once complete (same filesystem: atomic).
 */
export class MediaStorage {
  readonly root: string

  constructor(root: string) {
    this.root = resolve(root)
  }

  static async open(root: string): Promise<MediaStorage> {
    const storage = new MediaStorage(root)
    for (const dir of Object.values(PURPOSE_DIRS)) await mkdir(join(storage.root, dir), { recursive: true })
    return storage
  }

  tempPath(purpose: MediaPurpose): string {
    return join(this.root, PURPOSE_DIRS[purpose], `${TEMP_PREFIX}${randomBytes(16).toString('hex')}`)
  }

  newKey(purpose: MediaPurpose): string {
    return `${PURPOSE_DIRS[purpose]}/${randomBytes(16).toString('hex')}`
  }

  path(key: string): string {
    return join(this.root, key)
  }

  /** Removes a file; one that is already gone is fine. */
  async remove(path: string): Promise<void> {
    await unlink(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error
    })
  }

  /** Temp files older than `olderThanMs` (left by a crash mid-upload). Returns how many went. */
  async removeStaleTemps(olderThanMs: number, nowMs = Date.now()): Promise<number> {
    let removed = 0
    for (const dir of Object.values(PURPOSE_DIRS)) {
      const names = await readdir(join(this.root, dir)).catch(() => [] as string[])
      for (const name of names.filter((n) => n.startsWith(TEMP_PREFIX))) {
        const path = join(this.root, dir, name)
        const info = await stat(path).catch(() => undefined)
        if (info && nowMs - info.mtimeMs > olderThanMs) {
          await this.remove(path)
          removed += 1
        }
      }
    }
    return removed
  }
}
