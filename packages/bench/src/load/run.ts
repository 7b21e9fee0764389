import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Job } from './worker.ts'

const workerPath = fileURLToPath(new URL('./worker.ts', import.meta.url))

export interface SaturationResult {
  requestsPerSecond: number
  completed: number
  non2xx: number
  errors: number
  latencyMs: { p50: number; p99: number; p999: number }
  loadGeneratorCpu: number
}

export interface RateResult {
  offeredRate: number
  achievedRate: number
  completed: number
  non2xx: number
  errors: number
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number }
  loadGeneratorCpu: number
}

/** Runs one job in a fresh load-generator process and returns what it measured. */
export function runLoad(job: Extract<Job, { kind: 'saturate' }>): Promise<SaturationResult>
export function runLoad(job: Extract<Job, { kind: 'rate' }>): Promise<RateResult>
export function runLoad(job: Job): Promise<SaturationResult | RateResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [workerPath, JSON.stringify(job)], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`load generator failed: ${stderr || error.message}`))
      const last = stdout.trim().split('\n').at(-1) ?? '{}'
      resolve(JSON.parse(last))
    })
  })
}
