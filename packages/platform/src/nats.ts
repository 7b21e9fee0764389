import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'

export interface Bus {
  nc: NatsConnection
  js: JetStreamClient
  jsm: JetStreamManager
  namespace: string
  /** The JetStream stream holding every event of this namespace. */
  stream: string
  /** `auth.user.registered` → `<namespace>.auth.user.registered` */
  subject(name: string): string
}

const DAY_NS = 24 * 60 * 60 * 1e9

export const streamName = (namespace: string) => `${namespace.toUpperCase()}_EVENTS`

/**
 * Connects to NATS and makes sure the namespace's event stream exists. Events are kept for
 * 30 days (EVENT_RETENTION_DAYS) so a new or rebuilt consumer (e.g. search's index rebuild)
 * can replay them; the 2-minute duplicate window is what makes `Nats-Msg-Id` dedupe work.
 */
export async function connectBus(opts: {
  url: string
  namespace: string
  name: string
  retentionDays?: number
  /** The server does not send this connection what it published itself (see chat's Delivery). */
  noEcho?: boolean
}): Promise<Bus> {
  // noAsyncTraces: nats.js otherwise builds two Errors (stack captures) for every request and
  // every JetStream publish, in case it fails: chat's busy CPU in nats.js error constructors went
  // from 3.0% to 1.7% at 150 msg/s (what is left is the Error its cancel() makes after every
  // answer). Failures are reported with their subject by our own wrappers (request-reply.ts,
  // the relay's log line), which never used that stack.
  const nc = await connect({
    servers: opts.url,
    name: opts.name,
    maxReconnectAttempts: -1,
    noAsyncTraces: true,
    noEcho: opts.noEcho ?? false,
  })
  const jsm = await jetstreamManager(nc)
  const stream = streamName(opts.namespace)
  const config = {
    name: stream,
    subjects: [`${opts.namespace}.evt.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: (opts.retentionDays ?? 30) * DAY_NS,
    duplicate_window: 2 * 60 * 1e9,
  }
  try {
    await jsm.streams.add(config)
  } catch (error) {
    // Already there (another service created it): keep its config, ours is the same.
    if (!String((error as Error).message).includes('already in use')) throw error
  }
  return {
    nc,
    js: jetstream(nc),
    jsm,
    namespace: opts.namespace,
    stream,
    subject: (name) => `${opts.namespace}.evt.${name}`,
  }
}

/** Core-NATS subject for request-reply and live routing (not captured by the event stream). */
export const rpcSubject = (namespace: string, name: string) => `${namespace}.rpc.${name}`
export const liveSubject = (namespace: string, name: string) => `${namespace}.live.${name}`
