import { execFile } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
  latencyMs: Percentiles
  /** Latency per request tag (e.g. home, user, compose). */
  tags: Record<string, Percentiles>
  loadGeneratorCpu: number
}

export interface Percentiles {
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
}

/** Runs one job in a fresh load-generator process and returns what it measured. */
export function runLoad(job: Extract<Job, { kind: 'saturate' }>): Promise<SaturationResult>
export function runLoad(job: Extract<Job, { kind: 'rate' }>): Promise<RateResult>
export function runLoad(job: Job): Promise<SaturationResult | RateResult> {
  return new Promise((resolve, reject) => {
    // A job file: thousands of per-user requests are more than one argument may hold.
    const jobFile = join(tmpdir(), `http-job-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`)
    writeFileSync(jobFile, JSON.stringify(job))
    execFile(process.execPath, [workerPath, jobFile], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      rmSync(jobFile, { force: true })
      if (error) return reject(new Error(`load generator failed: ${stderr || error.message}`))
      const last = stdout.trim().split('\n').at(-1) ?? '{}'
      resolve(JSON.parse(last))
    })
  })
}
