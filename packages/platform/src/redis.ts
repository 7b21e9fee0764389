import { Redis } from 'ioredis'

/**
 * A Redis client whose every key is prefixed with the namespace, so stacks and test runs that
 * share a server never see each other's keys.
 */
export function createRedis(url: string, namespace: string): Redis {
  return new Redis(url, { keyPrefix: `${namespace}:`, maxRetriesPerRequest: 2, lazyConnect: false, enableAutoPipelining: true })
}

export type { Redis }
