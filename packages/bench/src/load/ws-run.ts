import { spawn } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { WsJob } from './ws-worker.ts'

const workerPath = fileURLToPath(new URL('./ws-worker.ts', import.meta.url))

export interface WsResult {
  sockets: number
  connectMs: number
  sent: number
  offeredRate: number
  achievedRate: number
  acked: number
  delivered: number
  lost: number
  duplicates: number
  errors: number
  ackLatencyMs: { p50: number; p90: number; p99: number; p999: number; max: number }
  deliveryLatencyMs: { p50: number; p90: number; p99: number; p999: number; max: number }
  loadGeneratorCpu: number
}

export type WsPhase = 'warm' | 'step' | 'connected' | 'measuring'

/**
 * Runs a WebSocket job in its own process. `atPhase` runs once the job's warm-up sockets are
 * open (`warm`, only with `warmSockets`), after each but the last of the `memorySteps` parts of
 * the rest (`step`), and once every socket is open (`connected`), before any message is sent:
 * sample memory there. `measuring` comes after the priming messages and the warm-up, just before
 * the measured messages: take CPU readings there.
 */
export function runWsLoad(job: WsJob, atPhase: (phase: WsPhase) => Promise<void> | void = () => undefined): Promise<WsResult> {
  return new Promise((resolve, reject) => {
    const jobFile = join(tmpdir(), `ws-job-${process.pid}-${Date.now()}.json`)
    writeFileSync(jobFile, JSON.stringify(job))
    const child = spawn(process.execPath, [workerPath, jobFile], { stdio: ['pipe', 'pipe', 'pipe'] })
    child.once('exit', () => rmSync(jobFile, { force: true }))
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const lines = createInterface({ input: child.stdout })
    lines.on('line', (line) => {
      if (line === 'warm' || line === 'step' || line === 'connected' || line === 'measuring') {
        Promise.resolve(atPhase(line)).then(
          () => child.stdin.write('go\n'),
          (error: unknown) => {
            child.kill()
            reject(error)
          },
        )
      } else if (line.startsWith('{')) resolve(JSON.parse(line) as WsResult)
    })
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`ws load generator exited with ${code}: ${stderr}`))
    })
  })
}
