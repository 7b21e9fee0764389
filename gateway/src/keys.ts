import { type Bus, type PublicKeyStore, publicKeysFor } from '@sm/platform'

/**
 * The keys that verify access tokens at the chat socket upgrade, from the platform's
 * `publicKeysFor`: a configured PEM wins (no dependency on auth being up); otherwise auth's JWKS
 * is asked for over NATS, lazily and again when a token names a key id not seen yet.
 */
export function createKeyStore(opts: { publicKeyPem: string; bus: Bus }): PublicKeyStore {
  return publicKeysFor({ JWT_PUBLIC_KEY: opts.publicKeyPem, namespace: opts.bus.namespace }, opts.bus.nc)
}
