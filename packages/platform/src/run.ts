import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'

/**
 * Listens and shuts down cleanly on SIGINT/SIGTERM: stop accepting, let in-flight requests
 * finish, then the app's onClose hooks stop consumers, flush the outbox and close pools.
 */
export async function runService(
  app: FastifyInstance,
  opts: { port: number; host: string; backlog: number; shutdownTimeoutMs: number },
): Promise<void> {
  closeWithGrace({ delay: opts.shutdownTimeoutMs }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal }, 'shutting down')
    await app.close()
  })
  await app.listen({ port: opts.port, host: opts.host, backlog: opts.backlog })
}
