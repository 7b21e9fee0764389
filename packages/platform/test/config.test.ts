import t from 'tap'
import { Type } from 'typebox'
import { ConfigError, loadConfig, namespaceFromDatabaseUrl } from '../src/config.ts'
import { PublicKeyStore } from '../src/keys.ts'
import { authOptions } from '../src/plugins/auth.ts'

t.test('defaults follow API.md › Operations', async (t) => {
  const config = loadConfig({ PORT: Type.Integer({ default: 3001 }) }, {})
  t.equal(config.PORT, 3001)
  t.equal(config.DATABASE_URL, 'postgres://postgres@127.0.0.1:5432/socialmedia')
  t.equal(config.REDIS_URL, 'redis://127.0.0.1:6379')
  t.equal(config.NATS_URL, 'nats://127.0.0.1:4222')
  t.equal(config.HOST, '127.0.0.1')
  t.equal(config.namespace, 'socialmedia', 'namespace derives from the database name')
})

t.test('env strings are converted to the schema types', async (t) => {
  const config = loadConfig({ PORT: Type.Integer({ default: 1 }) }, { PORT: '4000', NAMESPACE: 'custom_ns' })
  t.equal(config.PORT, 4000)
  t.equal(config.namespace, 'custom_ns')
})

t.test('every bad variable is named in one startup error', async (t) => {
  const error = t.throws(() =>
    loadConfig({ PORT: Type.Integer({ default: 1, maximum: 65535 }) }, { PORT: 'eighty', LOG_LEVEL: 'loud' }),
  ) as Error
  t.type(error, ConfigError)
  t.match(error.message, /PORT/)
  t.match(error.message, /LOG_LEVEL/)
})

t.test('stacks on different databases get different namespaces', async (t) => {
  t.equal(namespaceFromDatabaseUrl('postgres://u@h:5432/Social-Media'), 'social_media')
  t.not(namespaceFromDatabaseUrl('postgres://h/a'), namespaceFromDatabaseUrl('postgres://h/b'))
})

t.test('JWT_CACHE_SIZE reaches the auth plugin: 10,000 by default, 0 turns it off, negative is refused', async (t) => {
  const keys = new PublicKeyStore({ jwks: { keys: [] } })
  t.equal(authOptions(keys, loadConfig({}, {})).cacheSize, 10_000)
  const off = authOptions(keys, loadConfig({}, { JWT_CACHE_SIZE: '0', JWT_ISSUER: 'iss', JWT_AUDIENCE: 'aud' }))
  t.same({ ...off, keys: undefined }, { keys: undefined, issuer: 'iss', audience: 'aud', cacheSize: 0 })
  t.equal(off.keys, keys)
  t.throws(() => loadConfig({}, { JWT_CACHE_SIZE: '-1' }), /JWT_CACHE_SIZE/)
})
