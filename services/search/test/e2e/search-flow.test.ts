import { ApiError, Client } from '@sm/client'
import { startStack } from '@sm/testing'
import t from 'tap'
import { eventually } from '../helper.ts'

// The real system: auth, search and the gateway as their own processes, driven with the SDK.
const stack = await startStack({ services: ['auth', 'search'], env: { BCRYPT_COST: '10' } })
t.teardown(() => stack.stop())

const anonymous = new Client({ baseUrl: stack.url })
const usernames = async (q: string) => (await anonymous.search.users({ q })).items.map((user) => user.username)

t.test('a new user is found by username prefix within a second, and by the new name after a rename', async (t) => {
  const alice = new Client({ baseUrl: stack.url })
  const session = await alice.auth.register({
    username: 'searchable_alice',
    email: 'alice@search.test',
    password: 'long enough pw',
    nickname: 'Alice',
  })
  await eventually(async () => {
    if ((await usernames('searchable_al')).length === 0) throw new Error('not indexed yet')
  }, 1_000)
  const { items } = await anonymous.search.users({ q: 'Searchable_Al' })
  t.same(items, [{ id: session.user.id, username: 'searchable_alice', nickname: 'Alice', avatarUrl: null }])

  await alice.auth.updateMe({ username: 'renamed_alice' })
  await eventually(async () => {
    if ((await usernames('renamed_al')).length === 0) throw new Error('rename not indexed yet')
  }, 1_000)
  t.same(await usernames('searchable_al'), [], 'the old name no longer finds her')
})

t.test('hostile and bad input through the gateway: clear 4xx or empty lists, never a 500', async (t) => {
  const error = await anonymous.search.posts({ q: 'x'.repeat(10 * 1024) }).catch((e: unknown) => e)
  t.ok(error instanceof ApiError)
  t.match((error as ApiError).body, { statusCode: 400, code: 'VALIDATION' })
  const cursor = await anonymous.search.users({ q: 'a', cursor: 'garbage' }).catch((e: unknown) => e)
  t.match((cursor as ApiError).body, { statusCode: 400, code: 'INVALID_CURSOR' })
  for (const q of ["'; drop table search.users; --", '!(a | b) & c:*', '\u0000\ud800', '%', '#']) {
    t.same((await anonymous.search.posts({ q })).items, [], JSON.stringify(q))
    t.ok(Array.isArray((await anonymous.search.users({ q })).items))
    t.same((await anonymous.search.hashtags({ q })).items, [])
  }
  t.same(await anonymous.search.trendingHashtags(), { items: [] })
})
