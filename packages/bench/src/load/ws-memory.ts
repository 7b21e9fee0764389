import { readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { median } from './stats.ts'

const probePath = fileURLToPath(new URL('./ws-memory-probe.ts', import.meta.url))

/** NODE_OPTIONS for a process to be measured: gc() exposed, the probe preloaded. */
export function probeNodeOptions(): string {
  return [process.env.NODE_OPTIONS ?? '', '--expose-gc', `--import=${JSON.stringify(probePath)}`].join(' ').trim()
}

export interface MemorySample {
  rss: number
  heapUsed: number
  external: number
  arrayBuffers: number
}

const fileOf = (pid: number) => join(tmpdir(), `ws-memory-${pid}.json`)

function read(pid: number): { seq: number; samples: MemorySample[] } | undefined {
  try {
    return JSON.parse(readFileSync(fileOf(pid), 'utf8')) as { seq: number; samples: MemorySample[] }
  } catch {
    return undefined
  }
}

/**
 * Memory of a probed process after a full GC (see ws-memory-probe.ts): the median of its
 * samples, field by field. Fails rather than guess when the process has no probe.
 */
export async function sampleMemory(pid: number, timeoutMs = 20_000): Promise<MemorySample> {
  const before = read(pid)?.seq ?? 0
  process.kill(pid, 'SIGWINCH')
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = read(pid)
    if (found && found.seq > before) {
      const pick = (field: keyof MemorySample) => median(found.samples.map((s) => s[field]))
      return { rss: pick('rss'), heapUsed: pick('heapUsed'), external: pick('external'), arrayBuffers: pick('arrayBuffers') }
    }
    if (Date.now() > deadline) throw new Error(`process ${pid} did not answer the memory probe (started without probeNodeOptions()?)`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Removes a process's probe file once it is no longer measured. */
export function forgetMemory(pid: number): void {
  rmSync(fileOf(pid), { force: true })
}
