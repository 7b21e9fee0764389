import { randomUUID } from 'node:crypto'
import { createRedis } from '@sm/platform'
import { TEST_REDIS_URL } from '@sm/testing'
import t from 'tap'
import { EditRate } from '../../src/services/edit-rate.ts'

const redis = createRedis(TEST_REDIS_URL, `edit-rate-test-${randomUUID()}`)
t.teardown(() => redis.disconnect())
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('the window slides: edits count for a whole window from when they were made, not until a clock boundary', async (t) => {
  const windowMs = 1_000
  const rate = new EditRate(redis, 3, windowMs)
  const user = randomUUID()
  const started = Date.now()
  t.same(await Promise.all([rate.take(user), rate.take(user), rate.take(user)]), [0, 0, 0], 'three fit')
  // A fixed window would reopen at its next boundary, somewhere in the next second; these
  // checks span three quarters of it.
  for (const at of [250, 500, 750]) {
    await sleep(started + at - Date.now())
    const wait = await rate.take(user)
    if (Date.now() - started < windowMs - 50) t.ok(wait >= 1, `refused ${at} ms later, told to wait ${wait} s`)
  }
  await sleep(started + windowMs + 100 - Date.now())
  t.equal(await rate.take(user), 0, 'free again once the first three are a window old')
  t.equal(await rate.take(randomUUID()), 0, 'another user has a window of their own')
})
