/**
 * Preloaded into the processes whose memory per socket the chat scenario measures
 * (`NODE_OPTIONS=--expose-gc --import <this file>`, see probeNodeOptions in ws-memory.ts).
 * On SIGWINCH (ignored by processes without the probe) it collects all garbage, lets freed
 * pages go back to the OS, and writes a few samples of process.memoryUsage() to
 * `<tmpdir>/ws-memory-<pid>.json`.
 *
 * Why: right after a connect storm a process's RSS is mostly garbage and a young generation
 * grown to absorb it (on this 24 GB box V8 lets it reach 128 MB), in proportion to how much
 * the process allocated while connecting, not to how many sockets it holds. A full GC before
 * each sample makes "memory per socket" what the sockets retain, for raw ws and chat alike.
 */
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const gc = (globalThis as { gc?: (options: object) => void }).gc
let sequence = 0

process.on('SIGWINCH', () => {
  if (!gc) return
  const seq = ++sequence
  // 'last-resort' also shrinks the young generation and releases empty pages.
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' })
  const samples: NodeJS.MemoryUsage[] = []
  const take = () => {
    samples.push(process.memoryUsage())
    if (samples.length < 3) setTimeout(take, 200).unref()
    else writeFileSync(join(tmpdir(), `ws-memory-${process.pid}.json`), JSON.stringify({ seq, samples }))
  }
  // Pages are released by a background thread: sample after it had time to run.
  setTimeout(take, 500).unref()
})
