import t from 'tap'
import { expiryOf } from '../../src/services/media.client.ts'
import { assertEmoji, decodeCursor, encodeCursor } from '../../src/services/views.ts'

t.test('signed URL expiry is read in seconds or milliseconds; unknown means soon', async (t) => {
  const inSeconds = Math.floor(Date.now() / 1000) + 600
  t.equal(expiryOf(`/media/x/raw?exp=${inSeconds}`), inSeconds * 1000)
  t.equal(expiryOf(`/media/x/raw?expires=${inSeconds * 1000}`), inSeconds * 1000)
  for (const url of ['/media/x/raw', '/media/x/raw?exp=soon', '/media/x/raw?exp=-5']) {
    const at = expiryOf(url)
    t.ok(at > Date.now() && at < Date.now() + 5 * 60_000, `${url}: a short default`)
  }
})

t.test('a reaction is exactly one emoji', async (t) => {
  for (const good of ['👍', '❤️', '🇯🇵', '1️⃣', '👩🏽‍💻', '🏳️‍🌈']) t.doesNotThrow(() => assertEmoji(good), good)
  for (const bad of ['', 'a', '1', '👍👍', ':)', '👍 ', 'x'.repeat(40), '\u200d']) {
    t.throws(() => assertEmoji(bad), { code: 'INVALID_EMOJI' }, JSON.stringify(bad))
  }
})

t.test('sync cursors are opaque and checked', async (t) => {
  t.equal(decodeCursor(encodeCursor(42)), 42)
  t.equal(decodeCursor(undefined), 0)
  t.equal(decodeCursor(''), 0)
  for (const bad of [
    'garbage',
    Buffer.from('e1:-1').toString('base64url'),
    Buffer.from('e1:1.5').toString('base64url'),
    Buffer.from('x1:3').toString('base64url'),
  ]) {
    t.throws(() => decodeCursor(bad), { code: 'INVALID_CURSOR' })
  }
})
