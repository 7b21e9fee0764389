import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import { createSigner } from 'fast-jwt'

export const TEST_ISSUER = 'socialmedia-auth'
export const TEST_AUDIENCE = 'socialmedia'

/** An Ed25519 key pair as auth holds one: give `publicPem` to a service as JWT_PUBLIC_KEY. */
export function newKeyPair(kid = `kid-${randomBytes(3).toString('hex')}`) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  return {
    kid,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    jwk: { ...publicKey.export({ format: 'jwk' }), kty: 'OKP', kid, alg: 'EdDSA', use: 'sig' },
  }
}
export type KeyPair = ReturnType<typeof newKeyPair>

/**
 * An access token exactly as auth signs one (EdDSA, kid, iss, aud, typ, sub, username, jti), so
 * a service's integration tests run without the auth service.
 */
export function signAccessToken(
  keys: KeyPair,
  user: { id?: string; username?: string } = {},
  expiresInMs = 15 * 60_000,
  /** Claims to add or override (`{ typ: 'refresh' }` for a token that must not pass). */
  claims: Record<string, unknown> = {},
): string {
  const sign = createSigner({
    key: keys.privatePem,
    algorithm: 'EdDSA',
    kid: keys.kid,
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    expiresIn: expiresInMs,
  })
  return sign({
    sub: user.id ?? randomUUID(),
    username: user.username ?? 'alice',
    typ: 'access',
    jti: randomUUID(),
    sid: randomUUID(),
    ...claims,
  })
}
