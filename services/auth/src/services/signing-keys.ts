import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { JwkSet } from '@sm/contracts'
import { pemFromEnv } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { AuthDatabase } from '../db/database.ts'
import { insertSigningKey, listSigningKeys } from '../repositories/signing-keys.repository.ts'

export interface SigningKey {
  kid: string
  privatePem: string
}

/** RFC 7638 thumbprint: a stable key id derived from the key itself. */
function thumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' })
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x })
  return createHash('sha256').update(canonical).digest('base64url')
}

function publicJwk(publicKey: KeyObject, kid: string): JwkSet['keys'][number] {
  const { kty = 'OKP', crv, x } = publicKey.export({ format: 'jwk' })
  return { kty, crv, x, kid, alg: 'EdDSA', use: 'sig' }
}

/**
 * Ed25519 keys that sign access tokens. A configured JWT_PRIVATE_KEY wins; otherwise the newest
 * key in the database is used, and one is generated on first start, so every auth instance of
 * a stack signs with the same key and other services learn it from the JWKS.
 */
export class SigningKeys {
  readonly current: SigningKey
  readonly jwks: JwkSet

  private constructor(current: SigningKey, jwks: JwkSet) {
    this.current = current
    this.jwks = jwks
  }

  static async load(db: Kysely<AuthDatabase>, configuredPem: string): Promise<SigningKeys> {
    if (configuredPem) {
      const privateKey = createPrivateKey(pemFromEnv(configuredPem))
      const publicKey = createPublicKey(privateKey)
      const kid = thumbprint(publicKey)
      return new SigningKeys({ kid, privatePem: pemFromEnv(configuredPem) }, { keys: [publicJwk(publicKey, kid)] })
    }
    let rows = await listSigningKeys(db)
    if (rows.length === 0) {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519')
      const kid = thumbprint(publicKey)
      await insertSigningKey(db, {
        kid,
        privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        publicJwk: publicJwk(publicKey, kid),
      })
      rows = await listSigningKeys(db)
    }
    const [newest] = rows
    if (!newest) throw new Error('no signing key available')
    // Every stored key stays in the JWKS so tokens signed before a rotation still verify.
    const keys = rows.map((row) => row.publicJwk as JwkSet['keys'][number])
    return new SigningKeys({ kid: newest.kid, privatePem: newest.privatePem }, { keys })
  }
}
