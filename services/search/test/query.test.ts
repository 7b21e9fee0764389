import t from 'tap'
import {
  assertUuid,
  decodeCursor,
  encodeCursor,
  escapeLike,
  MAX_TAGS,
  MAX_WORDS,
  normalizeQuery,
  parsePostQuery,
  parseTagQuery,
  parseUserQuery,
} from '../src/services/query.ts'

t.test('queries are NFKC-normalised and control/format characters become spaces', async (t) => {
  t.equal(normalizeQuery('  ｈｅｌｌｏ\u0000wor\u200bld\t\n ﬁne  '), 'hello wor ld fine')
  t.equal(normalizeQuery('\ud800lone surrogate'), 'lone surrogate')
  t.equal(normalizeQuery('\u202e\u0007'), '')
})

t.test('post queries split into words and #tags; syntax characters only separate words', async (t) => {
  t.same(parsePostQuery("Hello #Rust wor'ld & !x | (y) <-> z:* #Rust #c++"), {
    words: ['Hello', 'wor', 'ld', 'x', 'y', 'z', 'c'],
    tags: ['rust'],
  })
  t.same(parsePostQuery("'; drop table posts; --"), { words: ['drop', 'table', 'posts'], tags: [] })
  t.same(parsePostQuery('\u0301\u0301 ### !!!'), { words: [], tags: [] }, 'marks alone and bare # are not words')
  t.same(parsePostQuery('日本語 テスト #東京'), { words: ['日本語', 'テスト'], tags: ['東京'] })
  t.same(parsePostQuery('#2024 #y2k'), { words: ['2024'], tags: ['y2k'] }, 'digits alone are never a tag (as in social)')
  const many = parsePostQuery(Array.from({ length: 40 }, (_, i) => `w${i} #t${i}`).join(' '))
  t.equal(many.words.length, MAX_WORDS)
  t.equal(many.tags.length, MAX_TAGS)
})

t.test('user and tag queries', async (t) => {
  t.equal(parseUserQuery('  @@Alice '), 'alice')
  t.equal(parseUserQuery('@'), '')
  t.equal(parseTagQuery('#Rust'), 'rust')
  t.equal(parseTagQuery('ru st'), null)
  t.equal(parseTagQuery('#'), null)
  t.equal(escapeLike('50%_off\\'), '50\\%\\_off\\\\')
})

t.test('cursors round-trip and are bound to their list and query', async (t) => {
  const cursor = encodeCursor('users', 'alice', { s: 3.25, id: '0190d6a4-0000-7000-8000-000000000000' })
  t.same(decodeCursor(cursor, 'users', 'alice', { s: 'number', id: 'string' }), {
    k: 'users',
    f: JSON.parse(Buffer.from(cursor, 'base64url').toString()).f,
    s: 3.25,
    id: '0190d6a4-0000-7000-8000-000000000000',
  })
  t.throws(() => decodeCursor(cursor, 'posts', 'alice', { s: 'number', id: 'string' }), { statusCode: 400, code: 'INVALID_CURSOR' })
  t.throws(() => decodeCursor(cursor, 'users', 'bob', { s: 'number', id: 'string' }), { code: 'INVALID_CURSOR' })
  t.throws(() => decodeCursor('%%%', 'users', 'alice', { s: 'number' }), { code: 'INVALID_CURSOR' })
  t.throws(() => decodeCursor(Buffer.from('null').toString('base64url'), 'users', 'alice', { s: 'number' }), { code: 'INVALID_CURSOR' })
  const infinite = Buffer.from(JSON.stringify({ k: 'users', f: JSON.parse(Buffer.from(cursor, 'base64url').toString()).f, s: '1e999' }))
  t.throws(() => decodeCursor(infinite.toString('base64url'), 'users', 'alice', { s: 'number' }), { code: 'INVALID_CURSOR' })
  t.equal(assertUuid('0190d6a4-0000-7000-8000-000000000000'), '0190d6a4-0000-7000-8000-000000000000')
  t.throws(() => assertUuid("1' or '1'='1"), { code: 'INVALID_CURSOR' })
})
