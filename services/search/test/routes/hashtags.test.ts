import type { HashtagSearchPage, TrendingHashtags } from '@sm/contracts'
import { newId } from '@sm/platform'
import t from 'tap'
import { applyEvent } from '../../src/services/indexer.service.ts'
import { buildTestApp, postWritten, registered, summary, tagsOf } from '../helper.ts'

const ctx = await buildTestApp(t)
const { publish, settle, get } = ctx
const author = registered({ username: 'tagger' })
const by = summary(author)
const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString()
/** Posts of the counting tests are old, so they stay out of the trending window. */
const oldPost = (text: string) => postWritten(by, text, { createdAt: hoursAgo(200) })

const tags = async (q: string, query: Record<string, string | number> = {}) => {
  const { status, body } = await get<HashtagSearchPage>('/search/hashtags', { q, ...query })
  if (status !== 200) throw new Error(`search failed: ${status} ${JSON.stringify(body)}`)
  return body
}

t.test('hashtags by prefix with live post counts, kept right through edits and deletions', async (t) => {
  const first = oldPost('#travel #travelgram day one')
  const second = oldPost('#Travel again')
  await publish('social.post.created', first)
  await publish('social.post.created', second)
  await publish('social.post.created', oldPost('off to #trains'))
  await settle()
  t.same((await tags('#tra')).items, [
    { tag: 'travel', posts: 2 },
    { tag: 'trains', posts: 1 },
    { tag: 'travelgram', posts: 1 },
  ])
  t.same((await tags('TRAVELG')).items, [{ tag: 'travelgram', posts: 1 }], 'case-insensitive, # optional')

  // The edit drops #travelgram and adds #trains; a replay of the edit changes nothing more.
  const edit = await publish('social.post.updated', {
    ...first,
    text: '#travel #trains day one',
    hashtags: ['travel', 'trains'],
    version: 2,
  })
  await publish('social.post.updated', edit.data)
  await settle()
  t.same((await tags('tra')).items, [
    { tag: 'trains', posts: 2 },
    { tag: 'travel', posts: 2 },
  ])
  await publish('social.post.deleted', { postId: second.postId, authorId: author.userId, deletedAt: new Date().toISOString(), version: 2 })
  await publish('social.post.deleted', { postId: second.postId, authorId: author.userId, deletedAt: new Date().toISOString(), version: 3 })
  await settle()
  t.same((await tags('trav')).items, [{ tag: 'travel', posts: 1 }], 'a deletion counts once')
})

t.test('hashtag pages, wildcards and impossible prefixes', async (t) => {
  for (let i = 0; i < 5; i++) await publish('social.post.created', oldPost(`#pg_${i} #pgall`))
  await settle()
  const all = (await tags('pg', { limit: 100 })).items
  t.equal(all.length, 6)
  t.same(all[0], { tag: 'pgall', posts: 5 })
  const seen = []
  let page = await tags('pg', { limit: 4 })
  seen.push(...page.items)
  while (page.nextCursor) {
    page = await tags('pg', { limit: 4, cursor: page.nextCursor })
    seen.push(...page.items)
  }
  t.same(seen, all)
  t.same((await tags('pg_')).items.length, 5, '`_` matches only itself')
  t.same((await tags('%')).items, [], '`%` is not a wildcard (and not a tag character)')
  t.same((await tags('two words')).items, [])
})

t.test('trending: the most used tags on posts of the last 24 hours', async (t) => {
  for (let i = 0; i < 3; i++) await publish('social.post.created', postWritten(by, `#hot now ${i}`, { createdAt: hoursAgo(1) }))
  for (let i = 0; i < 2; i++) await publish('social.post.created', postWritten(by, `#warm soon ${i}`, { createdAt: hoursAgo(5) }))
  for (let i = 0; i < 6; i++) await publish('social.post.created', postWritten(by, `#stale old ${i}`, { createdAt: hoursAgo(30) }))
  const deleted = postWritten(by, '#warm #gone', { createdAt: hoursAgo(2) })
  await publish('social.post.created', deleted)
  await publish('social.post.deleted', { postId: deleted.postId, authorId: author.userId, deletedAt: new Date().toISOString(), version: 2 })
  await settle()
  const { status, body } = await get<TrendingHashtags>('/search/hashtags/trending', { limit: 2 })
  t.equal(status, 200)
  t.same(body.items, [
    { tag: 'hot', posts: 3 },
    { tag: 'warm', posts: 2 },
  ])
  const week = await get<TrendingHashtags>('/search/hashtags/trending', { hours: 48 })
  t.same(week.body.items[0], { tag: 'stale', posts: 6 })
  t.match(await get('/search/hashtags/trending', { hours: 0 }), { status: 400, body: { code: 'VALIDATION' } })
  t.match(await get('/search/hashtags/trending', { hours: 169 }), { status: 400, body: { code: 'VALIDATION' } })
})

t.test('concurrent writers sharing tags (as several instances would) keep exact counts', async (t) => {
  const posts = Array.from({ length: 16 }, (_, i) => oldPost(i % 2 === 0 ? '#crossa #crossb' : '#crossb #crossa'))
  const envelope = (data: unknown, type = 'social.post.created') => ({ id: newId(), type, occurredAt: '', producer: 'social', data })
  await Promise.all(
    posts.map((post) => ctx.db.transaction().execute((trx) => applyEvent(trx, envelope({ ...post, hashtags: tagsOf(post.text) })))),
  )
  // Half of them swap one tag for another at the same time, racing the same post's duplicate.
  const edits = posts.slice(0, 8).map((post) => ({ ...post, text: '#crossa #crossc', hashtags: ['crossc', 'crossa'], version: 2 }))
  await Promise.all(
    [...edits, ...edits].map((edit) => ctx.db.transaction().execute((trx) => applyEvent(trx, envelope(edit, 'social.post.updated')))),
  )
  t.same((await tags('cross')).items, [
    { tag: 'crossa', posts: 16 },
    { tag: 'crossb', posts: 8 },
    { tag: 'crossc', posts: 8 },
  ])
})
