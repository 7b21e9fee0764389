import { execFile } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { StormJob } from './storm-worker.ts'

const workerPath = fileURLToPath(new URL('./storm-worker.ts', import.meta.url))

export interface StormResult {
  sockets: number
  missed: number
  arrived: number
  lost: number
  duplicates: number
  allOpenMs: number
  allCaughtUpMs: number
}

/** Runs the reconnect storm in its own process. */
export function runStorm(job: StormJob): Promise<StormResult> {
  const jobFile = join(tmpdir(), `storm-job-${process.pid}-${Date.now()}.json`)
  writeFileSync(jobFile, JSON.stringify(job))
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [workerPath, jobFile], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      rmSync(jobFile, { force: true })
      if (error) return reject(new Error(`storm failed: ${stderr || error.message}`))
      resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as StormResult)
    })
  })
}
