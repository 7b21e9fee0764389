import { connectBus } from '@sm/platform'
import { TEST_NATS_URL } from '@sm/testing'

/**
 * Waits until the stack's event consumers have caught up (nothing pending, nothing unacked), so
 * the backlog a write-heavy run leaves behind (fan-out, indexing) is not charged to the next
 * measurement. Gives up quietly after `timeoutMs`.
 */
export async function settleConsumers(namespace: string, durables: string[], timeoutMs = 120_000): Promise<number> {
  const bus = await connectBus({ url: TEST_NATS_URL, namespace, name: 'bench-settle' })
  const started = Date.now()
  try {
    for (;;) {
      let backlog = 0
      for (const durable of durables) {
        const info = await bus.jsm.consumers.info(bus.stream, durable).catch(() => undefined)
        if (info) backlog += info.num_pending + info.num_ack_pending
      }
      if (backlog === 0 || Date.now() - started > timeoutMs) return Date.now() - started
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  } finally {
    await bus.nc.close()
  }
}
