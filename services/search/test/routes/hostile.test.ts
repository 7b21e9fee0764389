import type { PostSearchPage } from '@sm/contracts'
import { HttpError, newId } from '@sm/platform'
import { sql } from 'kysely'
import t from 'tap'
import { SCHEMA, searchPath } from '../../src/app.ts'
import { createReader } from '../../src/db/reader.ts'
import { encodeCursor } from '../../src/services/query.ts'
import { runBounded } from '../../src/services/search.service.ts'
import { buildTestApp, postWritten, registered, summary } from '../helper.ts'

const ctx = await buildTestApp(t)
const { app, publish, settle, get } = ctx
const author = registered({ username: 'hostile_target' })
await publish('auth.user.registered', author)
await publish('social.post.created', postWritten(summary(author), 'a perfectly normal sentence about gophers #golang'))
await publish('social.post.created', postWritten(summary(author), "odd letters ŉ ʼquoted ː colon in d'Artagnan's text"))
await settle()

const routes = ['/search/users', '/search/posts', '/search/hashtags']

t.test('missing, empty, oversized or repeated q and bad paging parameters are 400s', async (t) => {
  for (const route of routes) {
    const cases: Array<[string, string]> = [
      ['missing q', route],
      ['empty q', `${route}?q=`],
      ['201 characters', `${route}?q=${'a'.repeat(201)}`],
      ['10 KB', `${route}?q=${'x'.repeat(10 * 1024)}`],
      ['10 KB of multibyte', `${route}?q=${encodeURIComponent('é'.repeat(5 * 1024))}`],
      ['q twice', `${route}?q=a&q=b`],
      ['limit 0', `${route}?q=a&limit=0`],
      ['limit 101', `${route}?q=a&limit=101`],
      ['limit not a number', `${route}?q=a&limit=ten`],
      ['cursor too long', `${route}?q=a&cursor=${'c'.repeat(600)}`],
    ]
    for (const [name, url] of cases) {
      const response = await app.inject({ method: 'GET', url })
      t.equal(response.statusCode, 400, `${route}: ${name}`)
      t.match(response.json(), { statusCode: 400, code: 'VALIDATION', error: 'Bad Request' })
    }
  }
  t.equal((await get('/search/users', { q: 'a'.repeat(200) })).status, 200, '200 characters is still fine')
})

const hostile = [
  "'; drop table search.posts; --",
  "' or 1=1 --",
  '%',
  '_',
  '\\',
  '%%%___\\\\',
  '!(gopher | rust) & go:* <-> x',
  "'':*",
  ':*',
  '&&&|||!!!',
  '( ( ( (',
  'gopher\u0000s',
  '\ud800\udfff\ud800',
  '\u202eevil\u202c',
  'a\u200db\u200bc',
  '👩‍👩‍👧 🏳️‍🌈',
  'Z̸̡͍̈́a̷̛l̴g̶o̵ ̀́̂̃',
  '\u0301\u0301\u0301',
  'ŉ ʼ ʹ ː ‘ ’',
  'ǅemal ﬁsh Ⅻ ①',
  '日本語 العربية עברית',
  '   ',
  '###',
  '@@@',
  '#'.repeat(200),
  'x'.repeat(200),
  `${'word '.repeat(40)}`.trim().slice(0, 200),
  `${'#t '.repeat(66)}`.trim(),
]

t.test('hostile strings get 200 with a (possibly empty) list, never a 500', async (t) => {
  for (const route of routes) {
    for (const q of hostile) {
      const response = await app.inject({ method: 'GET', url: route, query: { q } })
      t.equal(response.statusCode, 200, `${route} ${JSON.stringify(q)}`)
      t.ok(Array.isArray(response.json().items))
    }
  }
  // Still there, and still found: nothing was dropped or broken.
  const { body } = await get<PostSearchPage>('/search/posts', { q: 'gophers' })
  t.equal(body.items.length, 1)
  const odd = await get<PostSearchPage>('/search/posts', { q: 'ŉ ʼquoted artagnan' })
  t.equal(odd.body.items.length, 1, 'letters that unaccent turns into quote and colon are matched, not parsed')
})

t.test('a statement that outlives its budget is cancelled and reported as 503 SEARCH_TIMEOUT', async (t) => {
  const reader = createReader({ url: ctx.databaseUrl, schema: SCHEMA, searchPath: await searchPath(ctx.db), timeoutMs: 20, poolSize: 1 })
  t.teardown(() => reader.destroy())
  const error = await runBounded(reader, (db) => sql`select pg_sleep(2)`.execute(db)).catch((e: unknown) => e)
  t.ok(error instanceof HttpError)
  t.match(error, { statusCode: 503, code: 'SEARCH_TIMEOUT', headers: { 'retry-after': '1' } })
  const other = await runBounded(reader, (db) => sql`select * from no_such_table`.execute(db)).catch((e: unknown) => e)
  t.notOk(other instanceof HttpError, 'other database errors are not disguised')
  const writes = await runBounded(reader, (db) => sql`delete from posts`.execute(db)).catch((e: unknown) => e)
  t.match(writes, { code: '25006' }, 'search statements are read-only')
  const explicit = await runBounded(reader, (db) => db.transaction().execute((trx) => sql`delete from posts`.execute(trx))).catch(
    (e: unknown) => e,
  )
  t.match(explicit, { code: '25006' }, 'transactions on the reader start read-only too')
  const { rows } = await runBounded(reader, (db) => sql<{ path: string }>`select current_setting('search_path') as path`.execute(db))
  t.equal(rows[0]?.path, await searchPath(ctx.db), 'the search path, with its quoted and spaced list, arrives whole')
  t.equal((await get('/search/posts', { q: 'gophers' })).status, 200, 'the app reads through its own reader')
})

t.test('malformed events are dropped and the index keeps going', async (t) => {
  const subject = ctx.bus.subject('social.post.created')
  await ctx.bus.js.publish(subject, 'not json at all', { msgID: newId() })
  await ctx.bus.js.publish(subject, JSON.stringify({ id: newId(), type: 'social.post.created', data: { postId: 'nope' } }), {
    msgID: newId(),
  })
  await publish('social.post.created', postWritten(summary(author), 'survivor marmot'))
  await settle()
  const { body } = await get<PostSearchPage>('/search/posts', { q: 'marmot' })
  t.equal(body.items.length, 1)
})

t.test('unknown routes are 404 with the contract shape', async (t) => {
  t.match(await get('/search/everything', { q: 'a' }), { status: 404, body: { code: 'NOT_FOUND' } })
})

t.test('forged cursors with well-formed envelopes but hostile positions are 400s, never 500s', async (t) => {
  const id = newId()
  const postsKey = JSON.stringify([['gophers'], []])
  const cases: Array<[string, string, string]> = [
    ['/search/posts', 'gophers', encodeCursor('posts', postsKey, { s: 1, id, at: '-271821-04-20T00:00:00.000Z' })],
    ['/search/posts', 'gophers', encodeCursor('posts', postsKey, { s: 1, id, at: 'yesterday' })],
    ['/search/posts', 'gophers', encodeCursor('posts', postsKey, { s: 1, id: 'nope', at: new Date().toISOString() })],
    ['/search/hashtags', 'go', encodeCursor('hashtags', 'go', { p: 1.5, t: 'golang' })],
    ['/search/hashtags', 'go', encodeCursor('hashtags', 'go', { p: 1e20, t: 'golang' })],
    ['/search/hashtags', 'go', encodeCursor('hashtags', 'go', { p: -1, t: 'golang' })],
    ['/search/hashtags', 'go', encodeCursor('hashtags', 'go', { p: 1, t: 'go\u0000lang' })],
    ['/search/users', 'hostile', encodeCursor('users', 'hostile', { s: 'x', id })],
  ]
  for (const [route, q, cursor] of cases) {
    const response = await app.inject({ method: 'GET', url: route, query: { q, cursor } })
    t.equal(response.statusCode, 400, `${route} ${Buffer.from(cursor, 'base64url').toString()}`)
    t.match(response.json(), { code: 'INVALID_CURSOR' })
  }
  const tiny = encodeCursor('users', 'hostile', { s: 5e-324, id })
  t.equal((await get('/search/users', { q: 'hostile', cursor: tiny })).status, 200, 'any finite score is a valid position')
})
