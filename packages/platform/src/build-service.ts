import { randomUUID } from 'node:crypto'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import swagger from '@fastify/swagger'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginCallback } from 'fastify'
import metricsModule from 'fastify-metrics'
import { errorBody, errorHandlerPlugin } from './errors.ts'
import { lazyChildLoggerFactory } from './lazy-child-logger.ts'
import { loggerOptions } from './logger.ts'

export type App = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>

/** A dependency `/ready` checks: resolves when reachable, rejects (or times out) when not. */
export type ReadinessCheck = () => Promise<unknown>

export interface ServiceOptions {
  name: string
  version?: string
  logLevel?: string
  /** Largest accepted request body in bytes (JSON routes). */
  bodyLimit?: number
  readiness?: Record<string, ReadinessCheck>
  /** Tags and description for the service's OpenAPI document. */
  description?: string
}

const READY_TIMEOUT_MS = 2_000
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/
// fastify-metrics is CommonJS with an `exports.default`; under ESM the plugin sits one level down.
const metrics = ((metricsModule as unknown as { default?: unknown }).default ?? metricsModule) as FastifyPluginCallback<
  Record<string, unknown>
>

/**
 * The skeleton every service starts from: Fastify with the TypeBox type provider, request ids
 * taken from (or added as) `x-request-id`, the contract's error shape, `/health`, `/ready`,
 * `/metrics` and an OpenAPI document at `/openapi.json`. Routes are registered by the caller.
 */
export async function buildService(opts: ServiceOptions): Promise<App> {
  const app = Fastify({
    logger: loggerOptions(opts.name, opts.logLevel ?? 'info'),
    childLoggerFactory: lazyChildLoggerFactory,
    // A caller's id is kept only when it is short and plain: it lands in logs and NATS headers.
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    bodyLimit: opts.bodyLimit ?? 256 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })

  await app.register(errorHandlerPlugin)
  await app.register(swagger, {
    openapi: {
      info: { title: opts.name, version: opts.version ?? '0.1.0', description: opts.description ?? '' },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
  })
  await app.register(metrics, {
    endpoint: '/metrics',
    clearRegisterOnInit: true,
    defaultMetrics: { enabled: true, labels: { service: opts.name } },
    // Histograms only: summaries compute quantiles in-process on every request (a t-digest per
    // route, a measurable share of a hot route's CPU) and cannot be aggregated across instances.
    routeMetrics: { enabled: { histogram: true, summary: false }, registeredRoutesOnly: true },
  })

  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok', service: opts.name }))
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  app.get('/ready', { schema: { hide: true } }, async (_request, reply) => {
    const checks = Object.entries(opts.readiness ?? {})
    const results = await Promise.all(
      checks.map(async ([name, check]) => {
        try {
          await withTimeout(check(), READY_TIMEOUT_MS)
          return [name, 'up'] as const
        } catch {
          return [name, 'down'] as const
        }
      }),
    )
    const dependencies = Object.fromEntries(results)
    const ready = results.every(([, state]) => state === 'up')
    if (!ready) return reply.status(503).send({ ...errorBody(503, 'NOT_READY', 'a dependency is unreachable'), dependencies })
    return { status: 'ready', dependencies }
  })
  return app
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
