import { type Bus, type PublicKeyStore, publicKeysFor } from '@sm/platform'

/**
 * The keys that verify access tokens at the chat socket upgrade, from the platform's
 * `publicKeysFor`: a configured PEM wins (no dependency on auth being up); otherwise auth's JWKS
 * is asked for over NATS, lazily and again when a token names a key id not seen yet.
 */
export function createKeyStore(opts: { publicKeyPem: string; bus: Bus }): PublicKeyStore {
  // Env files and orchestrators often carry a PEM on one line with literal "\n".
  const pem = opts.publicKeyPem.replace(/\\n/g, '\n')
  return publicKeysFor({ JWT_PUBLIC_KEY: pem, namespace: opts.bus.namespace }, opts.bus.nc)
}
