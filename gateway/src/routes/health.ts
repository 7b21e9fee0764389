import { performance } from 'node:perf_hooks'
import { errorBody } from '@sm/platform'
import type { FastifyInstance } from 'fastify'
import { type Dispatcher, request } from 'undici'
import { SERVICE_NAMES, type ServiceName } from '../config.ts'

export interface HealthRoutesOptions {
  upstreams: Record<ServiceName, string>
  client: Dispatcher
  timeoutMs: number
}

export type ServiceHealth = { status: 'up'; latencyMs: number } | { status: 'down'; reason: string }

/**
 * `GET /health/services`: the gateway asks every service's `/health` at once, each with a short
 * budget, and reports each as up or down. 200 when all are up, else 503 with the contract's
 * error fields plus the same per-service report, so a probe can alert on the status alone.
 * (`/health` itself stays the gateway's own liveness: it must not fail because a service did.)
 */
export async function healthRoutes(app: FastifyInstance, opts: HealthRoutesOptions): Promise<void> {
  app.get('/health/services', { schema: { hide: true } }, async (_request, reply) => {
    const checks = await Promise.all(
      SERVICE_NAMES.map(async (name) => [name, await probe(opts.client, opts.upstreams[name], opts.timeoutMs)] as const),
    )
    const services = Object.fromEntries(checks) as Record<ServiceName, ServiceHealth>
    const down = checks.filter(([, health]) => health.status === 'down').map(([name]) => name)
    if (down.length === 0) return { status: 'ok', services }
    return reply.status(503).send({ ...errorBody(503, 'SERVICES_DOWN', `unavailable: ${down.join(', ')}`), status: 'degraded', services })
  })
}

async function probe(client: Dispatcher, baseUrl: string, timeoutMs: number): Promise<ServiceHealth> {
  const started = performance.now()
  try {
    const response = await request(`${baseUrl}/health`, {
      dispatcher: client,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    })
    await response.body.dump()
    if (response.statusCode !== 200) return { status: 'down', reason: `answered ${response.statusCode}` }
    return { status: 'up', latencyMs: Math.round(performance.now() - started) }
  } catch (error) {
    return { status: 'down', reason: describeFailure(error) }
  }
}

/** A short, address-free reason: the report is public, the service URLs are not. */
function describeFailure(error: unknown): string {
  const { code, name } = error as { code?: unknown; name?: unknown }
  // AbortSignal.timeout() rejects with a DOMException named TimeoutError (its `code` is a number).
  if (name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'timeout'
  if (code === 'ECONNREFUSED') return 'connection refused'
  return typeof code === 'string' ? code : 'unreachable'
}
