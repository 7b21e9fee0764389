import { readFileSync } from 'node:fs'

/** Resident memory of a process in bytes (Linux /proc), 0 when it cannot be read. */
export function rssOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) * 1024 : 0
  } catch {
    return 0
  }
}
