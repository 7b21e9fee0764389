import { connectBus, serveRequests } from '@sm/platform'
import { dropNamespace, TEST_NATS_URL } from '@sm/testing'
import t from 'tap'
import { createKeyStore } from '../src/keys.ts'
import { connectSocket, newKeyPair, signToken, startGateway, startSocketUpstream, testNamespace } from './helper.ts'

const namespace = testNamespace()
const bus = await connectBus({ url: TEST_NATS_URL, namespace, name: 'gateway-keys-test' })
t.teardown(async () => {
  await bus.nc.close()
  await dropNamespace(namespace)
})

// Auth's side of the contract: it answers `auth.jwks` requests with its public keys.
const authKeys = newKeyPair()
let jwksRequests = 0
serveRequests(
  bus.nc,
  namespace,
  'auth.jwks',
  async () => {
    jwksRequests += 1
    return { keys: [authKeys.jwk] }
  },
  { error() {}, warn() {}, info() {}, debug() {} },
)

t.test('without JWT_PUBLIC_KEY the keys come from auth over NATS, by kid', async (t) => {
  const store = createKeyStore({ publicKeyPem: '', bus })
  const pem = await store.keyFor(authKeys.kid)
  t.equal(pem?.trim(), authKeys.publicPem.trim())
  t.equal(await store.keyFor('some-unknown-kid'), undefined, 'an unknown kid has no key')
})

t.test('a configured PEM wins, even written on one line with literal \\n', async (t) => {
  const oneLine = authKeys.publicPem.trim().replace(/\n/g, '\\n')
  const store = createKeyStore({ publicKeyPem: oneLine, bus })
  t.equal(await store.keyFor(undefined), authKeys.publicPem.trim())
})

t.test('end to end: the gateway fetches the JWKS itself and admits tokens auth signed', async (t) => {
  const chat = await startSocketUpstream(t)
  const before = jwksRequests
  const { url } = await startGateway(t, { upstreams: { chat: chat.url }, namespace, keySource: 'config', listen: true })
  const socketUrl = `${url.replace('http', 'ws')}/chat/ws`

  const accepted = await connectSocket(socketUrl, { authorization: `Bearer ${signToken(authKeys)}` })
  t.equal(accepted.kind, 'open')
  if (accepted.kind === 'open') accepted.socket.terminate()
  t.ok(jwksRequests > before, 'the JWKS was asked for over NATS')

  const forged = await connectSocket(socketUrl, { authorization: `Bearer ${signToken(newKeyPair(authKeys.kid))}` })
  t.equal(forged.kind === 'refused' && forged.status, 401)
})

t.test('end to end: JWT_PUBLIC_KEY alone is enough', async (t) => {
  const chat = await startSocketUpstream(t)
  const { url } = await startGateway(t, {
    upstreams: { chat: chat.url },
    keySource: 'config',
    env: { JWT_PUBLIC_KEY: authKeys.publicPem },
    listen: true,
  })
  const result = await connectSocket(`${url.replace('http', 'ws')}/chat/ws`, { authorization: `Bearer ${signToken(authKeys)}` })
  t.equal(result.kind, 'open')
  if (result.kind === 'open') result.socket.terminate()
})
