import { connectBus } from '@sm/platform'
import { TEST_NATS_URL } from '@sm/testing'
import { cpuSeconds } from './proc.ts'

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

/**
 * Waits until every process is idle: under 5% of a core over two consecutive 300 ms windows
 * (/proc's CPU ticks), so work still queued behind a burst (a connect storm's attaches, their
 * presence events) is done before a measurement. Gives up after `timeoutMs`; returns the wait.
 */
export async function settleProcesses(pids: number[], timeoutMs = 20_000): Promise<number> {
  const started = Date.now()
  let quiet = 0
  let last = pids.map(cpuSeconds)
  while (quiet < 2 && Date.now() - started < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 300))
    const now = pids.map(cpuSeconds)
    const busiest = Math.max(...now.map((seconds, i) => seconds - (last[i] ?? 0)))
    quiet = busiest < 0.015 ? quiet + 1 : 0
    last = now
  }
  return Date.now() - started
}
