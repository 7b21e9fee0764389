import { Redis } from 'ioredis'

/**
 * A Redis client whose every key is prefixed with the namespace, so stacks and test runs that
 * share a server never see each other's keys.
 *
 * Auto-pipelining stays off: it batches only what concurrent requests send in the same tick
 * (little, below saturation), each batch builds a Pipeline with a wrapper per defined script,
 * and under social's feed load its objects outlived scavenges: 2.5 MB promoted per scavenge
 * with it, 0.15 MB without (v8-flags.ts says how that was measured).
 */
export function createRedis(url: string, namespace: string): Redis {
  return new Redis(url, { keyPrefix: `${namespace}:`, maxRetriesPerRequest: 2, lazyConnect: false, enableAutoPipelining: false })
}

export type { Redis }
