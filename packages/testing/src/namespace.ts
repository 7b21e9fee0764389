import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { Redis } from 'ioredis'

export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222'
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** Removes what a test run left on the shared NATS and Redis servers under its namespace. */
export async function dropNamespace(namespace: string): Promise<void> {
  const nc = await connect({ servers: TEST_NATS_URL })
  try {
    const jsm = await jetstreamManager(nc)
    await jsm.streams.delete(`${namespace.toUpperCase()}_EVENTS`).catch(() => undefined)
  } finally {
    await nc.close()
  }
  const redis = new Redis(TEST_REDIS_URL)
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 500)
      if (keys.length > 0) await redis.del(...keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}
