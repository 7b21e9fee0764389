import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { newId } from '@sm/platform'
import { repoRoot } from '@sm/testing'
import { sql } from 'kysely'
import t from 'tap'
import { rebuildIndex } from '../src/services/rebuild.service.ts'
import { buildTestApp, postWritten, registered, summary } from './helper.ts'

const ctx = await buildTestApp(t)
const { publish, settle, get, db, bus } = ctx
const silent = { error() {}, warn() {}, info() {}, debug() {} }

/** Everything the index holds that events decide (tags with no live post are equivalent to none). */
async function snapshot() {
  const users = await db
    .selectFrom('users')
    .select(['userId', 'username', 'nickname', 'avatarUrl', 'usernameAt', 'profileVersion'])
    .orderBy('userId')
    .execute()
  const posts = await db
    .selectFrom('posts')
    .select(['postId', 'authorId', 'author', 'text', 'hashtags', 'media', 'createdAt', 'editedAt', 'version', 'deleted'])
    .orderBy('postId')
    .execute()
  const hashtags = await db.selectFrom('hashtags').selectAll().where('posts', '>', 0).orderBy('tag').execute()
  const answers = []
  for (const [route, q] of [
    ['/search/users', 'reb'],
    ['/search/posts', 'rebuild'],
    ['/search/posts', '#replay'],
    ['/search/hashtags', 're'],
  ] as const) {
    answers.push((await get(route, { q, limit: 100 })).body)
  }
  return { users, posts, hashtags, answers }
}

t.test('a rebuild from the replayed stream yields the same index and the same answers', async (t) => {
  const alice = registered({ username: 'rebuild_alice', nickname: 'Alice' })
  const bob = registered({ username: 'rebuild_bob' })
  await publish('auth.user.registered', alice)
  await publish('auth.user.registered', bob)
  await publish('auth.user.updated', {
    userId: bob.userId,
    username: 'rebuild_robert',
    previousUsername: 'rebuild_bob',
    updatedAt: new Date().toISOString(),
  })
  await publish('social.profile.updated', {
    userId: alice.userId,
    username: 'rebuild_alice',
    nickname: 'Alice R',
    bio: null,
    avatarUrl: '/media/a',
    version: 2,
    updatedAt: new Date().toISOString(),
  })
  const posts = [
    postWritten(summary(alice), 'rebuild test one #replay'),
    postWritten(summary(bob), 'rebuild test two #replay #second'),
    postWritten(summary(bob), 'rebuild doomed #replay'),
  ]
  for (const post of posts) await publish('social.post.created', post)
  const [first, , doomed] = posts as [(typeof posts)[0], (typeof posts)[0], (typeof posts)[0]]
  await publish('social.post.updated', {
    ...first,
    text: 'rebuild test one edited #replay #edited',
    hashtags: ['replay', 'edited'],
    version: 3,
  })
  await publish('social.post.updated', { ...first, text: 'stale rebuild text', version: 2 })
  await publish('social.post.deleted', { postId: doomed.postId, authorId: bob.userId, deletedAt: new Date().toISOString(), version: 2 })
  await publish('social.post.shared', {
    shareId: newId(),
    fromUserId: alice.userId,
    toUserId: bob.userId,
    comment: null,
    post: { id: first.postId, author: summary(alice), text: 'x', media: null, createdAt: first.createdAt },
    sharedAt: new Date().toISOString(),
  })
  await settle()
  const before = await snapshot()
  t.equal(before.posts.filter((p) => !p.deleted).length, 2)

  // Damage the index the way a bug or a bad restore might; the rebuild must not care.
  await sql`update posts set text = 'corrupted', version = 99`.execute(db)
  await sql`insert into users (user_id, username) values (${newId()}, 'rebuild_ghost')`.execute(db)

  const result = await rebuildIndex({ db, bus, log: silent, batchSize: 3 })
  t.ok(result.applied >= 12, `applied ${result.applied} events`)
  t.ok(result.skipped >= 1, 'events search does not index are skipped')
  const after = await snapshot()
  t.same(after.users, before.users)
  t.same(after.posts, before.posts)
  t.same(after.hashtags, before.hashtags)
  t.same(after.answers, before.answers)
})

t.test('live events arriving during a rebuild are not lost', async (t) => {
  const writer = registered({ username: 'rebuild_live' })
  await publish('auth.user.registered', writer)
  await settle()
  const rebuilding = rebuildIndex({ db, bus, log: silent, batchSize: 2 })
  const live = [postWritten(summary(writer), 'rebuild concurrent alpha'), postWritten(summary(writer), 'rebuild concurrent beta')]
  for (const post of live) await publish('social.post.created', post)
  await publish('social.post.updated', { ...(live[0] as (typeof live)[0]), text: 'rebuild concurrent alpha edited', version: 2 })
  await rebuilding
  await settle()
  const { body } = await get<{ items: Array<{ text: string }> }>('/search/posts', { q: 'rebuild concurrent', limit: 100 })
  t.same(body.items.map((item) => item.text).sort(), ['rebuild concurrent alpha edited', 'rebuild concurrent beta'])
  t.match((await get('/search/users', { q: 'rebuild_live' })).body, { items: [{ username: 'rebuild_live' }] })
})

t.test('the rebuild command (src/rebuild.ts, run by `pnpm --filter @sm/search run rebuild`) rebuilds the same index', async (t) => {
  const before = await snapshot()
  const child = spawn(process.execPath, [join(repoRoot, 'services/search/src/rebuild.ts')], {
    env: { ...process.env, DATABASE_URL: ctx.databaseUrl, NAMESPACE: ctx.namespace, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const [code] = await once(child, 'exit')
  t.equal(code, 0, output)
  t.match(output, /search index rebuilt from the event stream/)
  const after = await snapshot()
  t.same(after.users, before.users)
  t.same(after.answers, before.answers)
})

t.test('an empty stream rebuilds to an empty index', async (t) => {
  const empty = await buildTestApp(t)
  const result = await rebuildIndex({ db: empty.db, bus: empty.bus, log: silent })
  t.same(result, { read: 0, applied: 0, skipped: 0, lastSequence: 0 })
})
