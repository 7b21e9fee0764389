import { randomUUID } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MediaRef } from '@sm/contracts'
import { type App, connectBus } from '@sm/platform'
import { cleanup, createTestDatabase, dropNamespace, newKeyPair, signAccessToken, TEST_NATS_URL, TEST_REDIS_URL } from '@sm/testing'
import pg from 'pg'
import type { Test } from 'tap'
import { buildApp } from '../src/app.ts'
import { loadMediaConfig } from '../src/config.ts'

export interface TestContext {
  app: App
  namespace: string
  databaseUrl: string
  mediaRoot: string
  /** A user with a valid access token signed by the test's key pair. */
  newUser(): { id: string; token: string; headers: { authorization: string } }
  /** Every file under MEDIA_ROOT (temp files included), relative to it. */
  files(): Promise<string[]>
}

/** The media app on its own database, NATS namespace, Redis prefix and MEDIA_ROOT. */
export async function buildTestApp(t: Test, env: Record<string, string> = {}): Promise<TestContext> {
  const db = await createTestDatabase('media')
  const mediaRoot = await mkdtemp(join(tmpdir(), 'media-test-'))
  const keys = newKeyPair()
  const config = loadMediaConfig({
    DATABASE_URL: db.url,
    NATS_URL: TEST_NATS_URL,
    REDIS_URL: TEST_REDIS_URL,
    NAMESPACE: db.namespace,
    JWT_PUBLIC_KEY: keys.publicPem,
    MEDIA_ROOT: mediaRoot,
    LOG_LEVEL: 'silent',
    ...env,
  })
  const app = await buildApp(config)
  t.teardown(() =>
    cleanup(
      {
        app: () => app.close(),
        connections: () => connectionsClosed(db.name),
        database: () => db.drop(),
        namespace: () => dropNamespace(db.namespace),
        files: () => rm(mediaRoot, { recursive: true, force: true }),
      },
      ['app'],
    ),
  )
  let counter = 0
  return {
    app,
    namespace: db.namespace,
    databaseUrl: db.url,
    mediaRoot,
    newUser() {
      counter += 1
      const id = randomUUID()
      const token = signAccessToken(keys, { id, username: `user_${counter}` })
      return { id, token, headers: { authorization: `Bearer ${token}` } }
    },
    async files() {
      const entries = await readdir(mediaRoot, { recursive: true, withFileTypes: true })
      return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(mediaRoot.length + 1))
    },
  }
}

/**
 * Waits until Postgres has no session left on `database`. A pg pool's `end()` resolves before
 * its sockets are closed, and the platform pool has no 'error' listener: dropping the database
 * `with (force)` in that window kills a closing session and crashes the test process.
 */
export async function connectionsClosed(database: string): Promise<void> {
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' })
  await admin.connect()
  try {
    await eventually(async () => {
      const { rows } = await admin.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [database])
      return rows[0]?.n === 0
    }, 5_000)
  } finally {
    await admin.end()
  }
}

export interface Part {
  name: string
  value: string | Buffer
  filename?: string
  contentType?: string
}

/** A multipart/form-data body, parts in the given order. */
export function multipart(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----media-test-${randomUUID()}`
  const chunks: Buffer[] = []
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename !== undefined ? `; filename="${part.filename}"` : ''}`
    const type = part.contentType ? `\r\nContent-Type: ${part.contentType}` : ''
    chunks.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}${type}\r\n\r\n`),
      Buffer.from(part.value),
      Buffer.from('\r\n'),
    )
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

/** The usual upload form: purpose first, then the file. */
export const uploadForm = (purpose: string, file: Buffer, filename = 'upload.bin', contentType = 'application/octet-stream') =>
  multipart([
    { name: 'purpose', value: purpose },
    { name: 'file', value: file, filename, contentType },
  ])

export async function upload(
  app: App,
  user: { headers: { authorization: string } },
  purpose: string,
  file: Buffer,
  filename?: string,
  contentType?: string,
): Promise<MediaRef> {
  const form = uploadForm(purpose, file, filename, contentType)
  const response = await app.inject({ method: 'POST', url: '/media', headers: { ...user.headers, ...form.headers }, payload: form.payload })
  if (response.statusCode !== 201) throw new Error(`upload failed: ${response.statusCode} ${response.body}`)
  return response.json() as MediaRef
}

/** A stand-in for social/chat on the same namespace: asks media over NATS. */
export async function peer(t: Test, namespace: string) {
  const bus = await connectBus({ url: TEST_NATS_URL, namespace, name: 'peer' })
  t.teardown(() => bus.nc.close())
  return bus
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error('condition not met before the deadline')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
