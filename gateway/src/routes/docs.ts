import swaggerUi from '@fastify/swagger-ui'
import { HttpError } from '@sm/platform'
import type { FastifyInstance } from 'fastify'
import { type Dispatcher, request } from 'undici'
import { SERVICE_NAMES, type ServiceName } from '../config.ts'

export interface DocsRoutesOptions {
  upstreams: Record<ServiceName, string>
  client: Dispatcher
  timeoutMs: number
}

/**
 * `GET /docs`: one Swagger UI over every service. Each service serves its own OpenAPI document
 * at `/openapi.json` on its own port, which browsers cannot reach; the gateway relays each one
 * as `/docs/specs/<service>.json` and the UI offers them in its "definition" selector.
 */
export async function docsRoutes(app: FastifyInstance, opts: DocsRoutesOptions): Promise<void> {
  for (const name of SERVICE_NAMES) {
    app.get(`/docs/specs/${name}.json`, { schema: { hide: true } }, async (req) =>
      fetchSpec(opts.client, opts.upstreams[name], opts.timeoutMs, req.id),
    )
  }

  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // The UI's inline code needs script/style hashes: this replaces the API's strict policy.
    staticCSP: true,
    uiConfig: {
      urls: SERVICE_NAMES.map((name) => ({ name, url: `/docs/specs/${name}.json` })),
      deepLinking: true,
    },
  })
}

async function fetchSpec(client: Dispatcher, baseUrl: string, timeoutMs: number, requestId: string): Promise<Record<string, unknown>> {
  let spec: Record<string, unknown>
  try {
    const response = await request(`${baseUrl}/openapi.json`, {
      dispatcher: client,
      headers: { 'x-request-id': requestId },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    })
    if (response.statusCode !== 200) {
      await response.body.dump()
      throw new Error(`answered ${response.statusCode}`)
    }
    spec = (await response.body.json()) as Record<string, unknown>
  } catch {
    throw new HttpError(503, 'UPSTREAM_UNAVAILABLE', 'the service is unavailable, its API description cannot be shown')
  }
  // "Try it out" must go through the gateway (same paths), never to a service's own port.
  return { ...spec, servers: [{ url: '/', description: 'gateway' }] }
}
