import { generateKeyPairSync } from 'node:crypto'
import type { JwkSet } from '@sm/contracts'
import t from 'tap'
import { PublicKeyStore } from '../src/keys.ts'

function jwkSet(kid: string): JwkSet {
  const { publicKey } = generateKeyPairSync('ed25519')
  const { kty = 'OKP', crv, x } = publicKey.export({ format: 'jwk' })
  return { keys: [{ kty, crv, x, kid, alg: 'EdDSA', use: 'sig' }] }
}

t.test('keys are fetched lazily, and an unknown kid refreshes at most once per interval', async (t) => {
  let fetches = 0
  let served = jwkSet('k1')
  const store = new PublicKeyStore(
    {
      fetch: async () => {
        fetches++
        return served
      },
    },
    60_000,
  )
  t.equal(fetches, 0, 'nothing fetched before the first token')
  t.match(await store.keyFor('k1'), /BEGIN PUBLIC KEY/)
  t.equal(fetches, 1)
  t.match(await store.keyFor('k1'), /BEGIN PUBLIC KEY/)
  t.equal(fetches, 1, 'known kids are served from memory')
  served = jwkSet('k2')
  for (let i = 0; i < 20; i++) await store.keyFor(`forged-${i}`)
  t.equal(fetches, 1, 'a flood of forged kids does not turn into a flood of fetches')
  t.equal(await store.keyFor(undefined), undefined, 'a token without kid matches nothing')
})

t.test('a rotated key is picked up once the interval has passed', async (t) => {
  let served = jwkSet('old')
  const store = new PublicKeyStore({ fetch: async () => served }, 0)
  t.ok(await store.keyFor('old'))
  served = jwkSet('new')
  t.ok(await store.keyFor('new'), 'new kid found after refresh')
  t.ok(await store.keyFor('old'), 'old kid still trusted (tokens signed before the rotation)')
})

t.test('keys that are not Ed25519 signing keys are ignored', async (t) => {
  const set = jwkSet('enc')
  set.keys[0] = { ...(set.keys[0] as JwkSet['keys'][number]), use: 'enc' }
  const store = new PublicKeyStore({ jwks: set })
  t.equal(await store.keyFor('enc'), undefined)
})

t.test('a configured PEM is used for every token', async (t) => {
  const { publicKey } = generateKeyPairSync('ed25519')
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
  const store = new PublicKeyStore({ pem })
  t.equal(await store.keyFor('anything'), pem)
})
