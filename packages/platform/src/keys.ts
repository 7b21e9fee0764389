import { createPublicKey } from 'node:crypto'
import type { NatsConnection } from '@nats-io/transport-node'
import type { JwkSet } from '@sm/contracts'
import { request } from './request-reply.ts'

export type JwksFetcher = () => Promise<JwkSet>

/**
 * Public keys that verify access tokens, by `kid`. Either one configured PEM, or the set auth
 * publishes (JWKS), fetched lazily and refreshed when a token names a `kid` we have not seen,
 * at most once per `refreshIntervalMs` so forged kids cannot turn into a request flood.
 */
export class PublicKeyStore {
  #keys = new Map<string, string>()
  #staticPem: string | undefined
  #fetcher: JwksFetcher | undefined
  #lastFetch = 0
  #inflight: Promise<void> | undefined

  readonly refreshIntervalMs: number

  constructor(source: { pem: string } | { fetch: JwksFetcher } | { jwks: JwkSet }, refreshIntervalMs = 10_000) {
    this.refreshIntervalMs = refreshIntervalMs
    if ('pem' in source) this.#staticPem = source.pem
    else if ('fetch' in source) this.#fetcher = source.fetch
    else this.#load(source.jwks)
  }

  #load(jwks: JwkSet): void {
    for (const jwk of jwks.keys) {
      if (jwk.use !== 'sig' || jwk.alg !== 'EdDSA') continue
      const pem = createPublicKey({ key: jwk as unknown as import('node:crypto').JsonWebKey, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' })
        .toString()
      this.#keys.set(jwk.kid, pem)
    }
  }

  async #refresh(force: boolean): Promise<void> {
    if (!this.#fetcher) return
    if (!force && Date.now() - this.#lastFetch < this.refreshIntervalMs) return
    this.#inflight ??= (async () => {
      try {
        this.#load(await (this.#fetcher as JwksFetcher)())
        this.#lastFetch = Date.now()
      } finally {
        this.#inflight = undefined
      }
    })()
    await this.#inflight
  }

  /** The PEM for `kid`, or undefined when no trusted key has that id. */
  async keyFor(kid: string | undefined): Promise<string | undefined> {
    if (this.#staticPem) return this.#staticPem
    if (!kid) return undefined
    const known = this.#keys.get(kid)
    if (known) return known
    await this.#refresh(this.#keys.size === 0 && this.#lastFetch === 0)
    return this.#keys.get(kid)
  }

  /** Adds a key directly (auth feeds its own signing keys in). */
  addJwks(jwks: JwkSet): void {
    this.#load(jwks)
  }
}

/**
 * The key store every verifier uses: JWT_PUBLIC_KEY when configured, else the JWKS that auth
 * answers on `auth.jwks` over NATS (so keys never have to be copied between services).
 */
export function publicKeysFor(config: { JWT_PUBLIC_KEY: string; namespace: string }, nc: NatsConnection): PublicKeyStore {
  if (config.JWT_PUBLIC_KEY) return new PublicKeyStore({ pem: pemFromEnv(config.JWT_PUBLIC_KEY) })
  return new PublicKeyStore({ fetch: () => request<JwkSet>(nc, config.namespace, 'auth.jwks', {}) })
}

/** Env files and orchestrators often carry a PEM on one line with literal "\n". */
export const pemFromEnv = (value: string): string => value.replace(/\\n/g, '\n')
