import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import { HttpError } from './errors.ts'
import type { Log } from './logger.ts'
import { rpcSubject } from './nats.ts'

type Reply<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string } }

/** A request that failed on the other side, or never got an answer in time. */
export class RequestError extends Error {
  override name = 'RequestError'
  readonly code: string

  constructor(code: string, message: string) {
    super(message)
    this.code = code
  }
}

/**
 * A failed request as the HTTP error the caller's client should see: codes in `statuses` keep
 * their code and message with that status, an unreachable service is a 503 with `Retry-After`,
 * any other refusal a 502 (`<SERVICE>_ERROR`). Anything that is not a RequestError (an
 * HttpError already, a bug) is returned as it is.
 */
export function httpErrorFromRequest(error: unknown, service: string, statuses: Readonly<Record<string, number>>): unknown {
  if (!(error instanceof RequestError)) return error
  if (error.code === 'UPSTREAM_UNAVAILABLE') {
    return new HttpError(503, 'UPSTREAM_UNAVAILABLE', `${service} is unavailable; retry shortly`, { 'retry-after': '1' })
  }
  const status = statuses[error.code]
  if (status !== undefined) return new HttpError(status, error.code, error.message)
  return new HttpError(502, `${service.toUpperCase()}_ERROR`, `${service} refused: ${error.code}`)
}

/**
 * Answers `<namespace>.rpc.<name>` requests. Instances share a queue group, so each request
 * is handled once. Handler errors go back as `{ ok: false, error }`, never as silence.
 */
export function serveRequests<Req, Res>(
  nc: NatsConnection,
  namespace: string,
  name: string,
  handler: (request: Req) => Promise<Res>,
  log: Log,
): Subscription {
  return nc.subscribe(rpcSubject(namespace, name), {
    queue: `rpc.${name}`,
    callback: (err, msg) => {
      if (err) {
        log.error({ err }, `rpc ${name} subscription error`)
        return
      }
      Promise.resolve()
        .then(() => handler(msg.json<Req>()))
        .then(
          (data) => msg.respond(JSON.stringify({ ok: true, data } satisfies Reply<Res>)),
          (error: unknown) => {
            const code = error instanceof HttpError || error instanceof RequestError ? error.code : 'INTERNAL'
            if (code === 'INTERNAL') log.error({ err: error }, `rpc ${name} failed`)
            const message = code === 'INTERNAL' ? 'internal error' : (error as Error).message
            msg.respond(JSON.stringify({ ok: false, error: { code, message } } satisfies Reply<Res>))
          },
        )
    },
  })
}

/** Sends a request and waits at most `timeoutMs` for the answer. */
export async function request<Res>(nc: NatsConnection, namespace: string, name: string, body: unknown, timeoutMs = 2_000): Promise<Res> {
  let reply: Reply<Res>
  try {
    const msg = await nc.request(rpcSubject(namespace, name), JSON.stringify(body), { timeout: timeoutMs })
    reply = msg.json<Reply<Res>>()
  } catch (error) {
    throw new RequestError('UPSTREAM_UNAVAILABLE', `${name}: ${(error as Error).message}`)
  }
  if (!reply.ok) throw new RequestError(reply.error.code, reply.error.message)
  return reply.data
}
