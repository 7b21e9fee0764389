import { JwkSet } from '@sm/contracts'
import type { App } from '@sm/platform'
import type { SigningKeys } from '../services/signing-keys.ts'

export async function jwksRoutes(app: App, { keys }: { keys: SigningKeys }) {
  app.get('/auth/.well-known/jwks.json', { schema: { tags: ['auth'], response: { 200: JwkSet } } }, async (_request, reply) => {
    // Public and rarely changing; a short cache keeps verifiers from asking on every token.
    reply.header('cache-control', 'public, max-age=300')
    return keys.jwks
  })
}
