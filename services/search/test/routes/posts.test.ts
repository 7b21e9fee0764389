import type { MediaRef, PostSearchPage } from '@sm/contracts'
import { newId } from '@sm/platform'
import { sql } from 'kysely'
import t from 'tap'
import { SCHEMA, searchPath } from '../../src/app.ts'
import { createReader } from '../../src/db/reader.ts'
import { SearchService } from '../../src/services/search.service.ts'
import { buildTestApp, eventually, postWritten, registered, summary } from '../helper.ts'

const ctx = await buildTestApp(t)
const { publish, settle, get } = ctx
const author = registered({ username: 'poster_one', nickname: 'Poster' })
await publish('auth.user.registered', author)
const by = summary(author)

const search = async (q: string, query: Record<string, string | number> = {}) => {
  const { status, body } = await get<PostSearchPage>('/search/posts', { q, ...query })
  if (status !== 200) throw new Error(`search failed: ${status} ${JSON.stringify(body)}`)
  return body
}
const texts = async (q: string) => (await search(q)).items.map((item) => item.text)
/** The ids on `first` and on every page after it, following the cursors. */
const pagesFrom = async (q: string, first: PostSearchPage, limit: number) => {
  const ids = first.items.map((item) => item.id)
  let cursor = first.nextCursor
  while (cursor) {
    const page = await search(q, { limit, cursor })
    ids.push(...page.items.map((item) => item.id))
    cursor = page.nextCursor
  }
  return ids
}
const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString()

t.test('a new post is searchable within a second, shaped like a post', async (t) => {
  const media: MediaRef[] = [{ id: newId(), kind: 'image', mime: 'image/png', size: 42, width: 2, height: 3, url: '/media/x' }]
  const post = postWritten(by, 'Quokkas are the happiest #Animals on Rottnest', { media })
  await publish('social.post.created', post)
  const found = await eventually(async () => {
    const page = await search('quokka')
    if (page.items.length === 0) throw new Error('not yet')
    return page
  }, 1_000)
  t.same(found.items, [
    {
      id: post.postId,
      author: { id: author.userId, username: 'poster_one', nickname: 'Poster', avatarUrl: null },
      text: post.text,
      hashtags: ['animals'],
      media,
      createdAt: post.createdAt,
      editedAt: null,
    },
  ])
  t.equal(found.nextCursor, null)
})

t.test('an edit replaces the words: old ones no longer match, new ones do', async (t) => {
  const post = postWritten(by, 'original wombat text')
  await publish('social.post.created', post)
  const editedAt = new Date().toISOString()
  await publish('social.post.updated', { ...post, text: 'rewritten platypus text', editedAt, version: 2 })
  await settle()
  t.same(await texts('wombat'), [])
  const page = await search('platypus')
  t.match(page.items, [{ id: post.postId, text: 'rewritten platypus text', editedAt }])
})

t.test('a deleted post disappears', async (t) => {
  const post = postWritten(by, 'ephemeral narwhal sighting')
  await publish('social.post.created', post)
  await settle()
  t.same(await texts('narwhal'), ['ephemeral narwhal sighting'])
  await publish('social.post.deleted', { postId: post.postId, authorId: author.userId, deletedAt: new Date().toISOString(), version: 2 })
  await eventually(async () => {
    if ((await texts('narwhal')).length > 0) throw new Error('still there')
  }, 1_000)
  t.same(await texts('narwhal'), [])
})

t.test('late, reordered and repeated post events never resurrect a deletion or show stale text', async (t) => {
  const post = postWritten(by, 'axolotl version one')
  const v2 = { ...post, text: 'axolotl version two', editedAt: new Date().toISOString(), version: 2 }
  const v3 = { ...post, text: 'axolotl version three', editedAt: new Date().toISOString(), version: 3 }
  await publish('social.post.updated', v3)
  await publish('social.post.created', post)
  await publish('social.post.updated', v2)
  await settle()
  t.same(await texts('axolotl'), ['axolotl version three'], 'the highest version wins whatever the order')

  const created = await publish('social.post.created', { ...post, postId: newId(), text: 'capybara original' })
  await publish('social.post.updated', { ...created.data, text: 'capybara edited', version: 2 })
  // The creation again, republished with a new message id (past the duplicate window) and as a new event.
  await publish('social.post.created', created.data, { id: created.id, msgId: newId() })
  await publish('social.post.created', created.data)
  await settle()
  t.same(await texts('capybara'), ['capybara edited'])

  await publish('social.post.deleted', { postId: post.postId, authorId: author.userId, deletedAt: new Date().toISOString(), version: 4 })
  await publish('social.post.updated', { ...v3, version: 3 })
  await publish('social.post.updated', { ...v3, text: 'axolotl version five', version: 5 })
  await publish('social.post.created', post)
  await settle()
  t.same(await texts('axolotl'), [], 'nothing brings a deleted post back')

  const neverSeen = postWritten(by, 'pangolin deleted before created')
  await publish('social.post.deleted', {
    postId: neverSeen.postId,
    authorId: author.userId,
    deletedAt: new Date().toISOString(),
    version: 2,
  })
  await publish('social.post.created', neverSeen)
  await settle()
  t.same(await texts('pangolin'), [], 'a creation arriving after its deletion stays deleted')
})

t.test('#tags match hashtags; words are accent-insensitive and the last one is a prefix', async (t) => {
  await publish('social.post.created', postWritten(by, 'Learning #Rust programming at the café'))
  await publish('social.post.created', postWritten(by, 'rust on my old bike, no tag'))
  await publish('social.post.created', postWritten(by, 'Crème brûlée recipe #dessert'))
  await settle()
  t.same(await texts('#rust'), ['Learning #Rust programming at the café'])
  t.same(await texts('#RUST progr'), ['Learning #Rust programming at the café'], 'tag and prefix word together')
  t.same((await texts('rust')).length, 2, 'the plain word matches tagged and untagged text')
  t.same(await texts('creme brulee'), ['Crème brûlée recipe #dessert'])
  t.same(await texts('CAFÉ'), ['Learning #Rust programming at the café'])
  t.same(await texts('#rust #dessert'), [], 'every tag is required')
  t.same(await texts('#nosuchtag'), [])
})

t.test('ranking: more relevant first, then newer first among equals', async (t) => {
  const older = postWritten(by, 'lemur facts', { createdAt: hoursAgo(72) })
  const newer = postWritten(by, 'lemur facts', { createdAt: hoursAgo(1) })
  const dense = postWritten(by, 'lemur lemur lemur: everything about the lemur', { createdAt: hoursAgo(72) })
  for (const post of [older, newer, dense]) await publish('social.post.created', post)
  await settle()
  const ids = (await search('lemur')).items.map((item) => item.id)
  t.same(ids, [dense.postId, newer.postId, older.postId])
  const tagOnly = [postWritten(by, 'old #ranked', { createdAt: hoursAgo(30) }), postWritten(by, 'new #ranked', { createdAt: hoursAgo(2) })]
  for (const post of tagOnly) await publish('social.post.created', post)
  await settle()
  t.same(await texts('#ranked'), ['new #ranked', 'old #ranked'], 'a tag-only search is newest first')
})

t.test('keyset pages are stable: no duplicates or gaps when posts arrive between pages', async (t) => {
  for (let i = 0; i < 5; i++)
    await publish('social.post.created', postWritten(by, `paging okapi number ${i}`, { createdAt: hoursAgo(i + 1) }))
  await settle()
  const all = (await search('okapi', { limit: 100 })).items.map((item) => item.id)
  t.equal(all.length, 5)
  const first = await search('okapi', { limit: 2 })
  // A brand-new, very relevant post lands between page 1 and page 2.
  await publish('social.post.created', postWritten(by, 'okapi okapi okapi okapi newcomer'))
  await settle()
  const seen = await pagesFrom('okapi', first, 2)
  t.same(seen, all, 'the original five, each once, in their original order')
  t.equal((await search('okapi', { limit: 100 })).items.length, 6)
  const wrong = await get('/search/posts', { q: 'other words', cursor: first.nextCursor as string })
  t.match(wrong, { status: 400, body: { code: 'INVALID_CURSOR' } })
})

t.test('tag-only pages: newest first, ties by id, each post once, forged positions refused', async (t) => {
  const sameTime = hoursAgo(5)
  const posts = [
    ...Array.from({ length: 3 }, (_, i) => postWritten(by, `tied ${i} #pagedtag`, { createdAt: sameTime })),
    ...Array.from({ length: 4 }, (_, i) => postWritten(by, `spread ${i} #pagedtag`, { createdAt: hoursAgo(i * 2 + 1) })),
  ]
  for (const post of posts) await publish('social.post.created', post)
  await settle()
  const expected = [...posts]
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.postId < b.postId ? 1 : -1))
    .map((post) => post.postId)
  t.same(
    (await search('#pagedtag', { limit: 100 })).items.map((item) => item.id),
    expected,
  )
  const first = await search('#pagedtag', { limit: 2 })
  await publish('social.post.created', postWritten(by, 'latecomer #pagedtag'))
  await settle()
  const seen = await pagesFrom('#pagedtag', first, 2)
  t.same(seen, expected, 'pages of two concatenate to the ranking, ties included, without the latecomer')
  const position = JSON.parse(Buffer.from(first.nextCursor as string, 'base64url').toString())
  t.ok(Number.isInteger(position.s) && position.s > Date.parse(sameTime) * 1000, 'the position is a creation time in microseconds')
  for (const s of [1e300, -1, 0.5]) {
    const forged = Buffer.from(JSON.stringify({ ...position, s })).toString('base64url')
    t.match(await get('/search/posts', { q: '#pagedtag', cursor: forged }), { status: 400, body: { code: 'INVALID_CURSOR' } }, `s = ${s}`)
  }
})

t.test('word searches (prepared statements) stay right past the executions after which Postgres may plan generically', async (t) => {
  const words = Array.from({ length: 8 }, (_, i) => `zebrafinch${i}`)
  for (const word of words) await publish('social.post.created', postWritten(by, `spotted a ${word} today`))
  await publish('social.post.created', postWritten(by, 'zebrafinch0 and zebrafinch1 together'))
  await settle()
  for (let round = 0; round < 2; round++) {
    for (const [i, word] of words.entries()) {
      const expected = i < 2 ? 2 : 1
      t.equal((await search(word)).items.length, expected, `${word}, round ${round + 1}`)
    }
  }
  t.same(await texts('zebrafinch0 zebrafinch1'), ['zebrafinch0 and zebrafinch1 together'])
  t.equal((await search('zebrafinch')).items.length, 9, 'the last word as a prefix')
})

t.test('word searches run as prepared statements, tag-only pages do not', async (t) => {
  // One connection per reader, so the session asked afterwards is the one that searched.
  const options = { url: ctx.databaseUrl, schema: SCHEMA, searchPath: await searchPath(ctx.db), timeoutMs: 2_000, poolSize: 1 }
  const reader = createReader(options)
  const preparedReader = createReader({ ...options, prepared: true })
  t.teardown(() => Promise.all([reader.destroy(), preparedReader.destroy()]))
  await publish('social.post.created', postWritten(by, 'a tagged line #preparedtag'))
  await settle()
  const service = new SearchService({ reader, preparedReader })
  t.equal((await service.posts({ q: 'zebrafinch3', limit: 5 })).items.length, 1)
  t.equal((await service.posts({ q: '#preparedtag', limit: 5 })).items.length, 1)
  const prepared = (db: typeof reader) =>
    sql<{ statement: string }>`select statement from pg_prepared_statements where name like 'sm\_%'`
      .execute(db)
      .then(({ rows }) => rows.map((row) => row.statement).filter((text) => !text.includes('pg_prepared_statements')))
  const words = await prepared(preparedReader)
  t.equal(words.length, 1, 'the word search was prepared on its reader')
  t.match(words[0], /ts_rank_cd/)
  t.same(await prepared(reader), [], 'the tag-only page ran unprepared on the other')
})

t.test('a post shows its author under their current name after a rename', async (t) => {
  const writer = registered({ username: 'renamed_writer_old' })
  await publish('auth.user.registered', writer)
  await publish('social.post.created', postWritten(summary(writer), 'chinchilla dust bath'))
  await settle()
  t.match((await search('chinchilla')).items[0]?.author, { username: 'renamed_writer_old' })
  await publish('auth.user.updated', {
    userId: writer.userId,
    username: 'renamed_writer_new',
    previousUsername: 'renamed_writer_old',
    updatedAt: new Date().toISOString(),
  })
  await settle()
  t.match((await search('chinchilla')).items[0]?.author, { id: writer.userId, username: 'renamed_writer_new' })
  // An author the index has never heard of is shown as the event described them.
  const stranger = { id: newId(), username: 'stranger_x', nickname: 'S', avatarUrl: '/a.png' }
  await publish('social.post.created', postWritten(stranger, 'tapir from a stranger'))
  await settle()
  t.same((await search('tapir')).items[0]?.author, stranger)
})

t.test('a one-letter last word matches whole words only; from two letters on it is a prefix', async (t) => {
  await publish('social.post.created', postWritten(by, 'vitamin k is a thing'))
  await publish('social.post.created', postWritten(by, 'vitamin kale smoothie'))
  await settle()
  t.same(await texts('vitamin k'), ['vitamin k is a thing'])
  t.same((await texts('vitamin ka')).sort(), ['vitamin kale smoothie'])
})

t.test('author nickname and avatar: the post event until social sends a profile, then the profile', async (t) => {
  const user = registered({ username: 'avatar_owner', nickname: 'Signup Nick' })
  await publish('auth.user.registered', user)
  const snapshot = { id: user.userId, username: 'avatar_owner', nickname: 'Social Nick', avatarUrl: '/media/avatar-1' }
  await publish('social.post.created', postWritten(snapshot, 'gecko on the wall'))
  await settle()
  t.same((await search('gecko')).items[0]?.author, snapshot)
  await publish('social.profile.updated', {
    userId: user.userId,
    username: 'avatar_owner',
    nickname: 'Profile Nick',
    bio: null,
    avatarUrl: null,
    version: 1,
    updatedAt: new Date().toISOString(),
  })
  await settle()
  t.same((await search('gecko')).items[0]?.author, { id: user.userId, username: 'avatar_owner', nickname: 'Profile Nick', avatarUrl: null })
})
