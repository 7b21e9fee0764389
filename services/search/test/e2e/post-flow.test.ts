import { Client } from '@sm/client'
import { startStack } from '@sm/testing'
import t from 'tap'
import { eventually } from '../helper.ts'

// auth, social and search as real processes: posts written through social reach search by events only.
const stack = await startStack({ services: ['auth', 'social', 'search'], env: { BCRYPT_COST: '10' } })
t.teardown(() => stack.stop())

const anonymous = new Client({ baseUrl: stack.url })
const texts = async (q: string) => (await anonymous.search.posts({ q })).items.map((post) => post.text)
const within = (ms: number, check: () => Promise<boolean>) =>
  eventually(async () => {
    if (!(await check())) throw new Error(`condition not met within ${ms} ms`)
  }, ms)

t.test('a post is searchable within a second of its creation, edits replace words, deletion removes it', async (t) => {
  const writer = new Client({ baseUrl: stack.url })
  const session = await writer.auth.register({ username: 'post_writer', email: 'writer@search.test', password: 'long enough pw' })
  // social learns the profile from auth's event; until then it has no author to write for.
  const post = await eventually(() => writer.social.createPost({ text: 'Hello from the #Outback, said the quokka' }), 5_000)

  await within(1_000, async () => (await texts('quokka')).length === 1)
  const page = await anonymous.search.posts({ q: '#outback quok' })
  t.match(page.items, [{ id: post.id, author: { id: session.user.id, username: 'post_writer' }, hashtags: ['outback'] }])
  t.same((await anonymous.search.hashtags({ q: 'out' })).items, [{ tag: 'outback', posts: 1 }])

  const edited = await writer.social.updatePost(post.id, { text: 'Hello from the #Outback, said the wombat' })
  await within(1_000, async () => (await texts('wombat')).length === 1)
  const [found] = (await anonymous.search.posts({ q: 'wombat' })).items
  const { id, author, text, hashtags, media, createdAt, editedAt } = edited
  t.same(
    found,
    { id, author, text, hashtags, media, createdAt, editedAt },
    'the same fields as the post social returned, edit time included',
  )
  t.same(await texts('quokka'), [], 'the old words no longer match')

  await writer.social.deletePost(post.id)
  await within(1_000, async () => (await texts('wombat')).length === 0)
  t.same((await anonymous.search.posts({ q: '#outback' })).items, [])
  t.same((await anonymous.search.hashtags({ q: 'out' })).items, [])
})
