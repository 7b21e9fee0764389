import { readdirSync, readFileSync } from 'node:fs'

/** Resident memory of a process in bytes (Linux /proc), 0 when it cannot be read. */
export function rssOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) * 1024 : 0
  } catch {
    return 0
  }
}

/** One process's CPU time so far (user + system, in 1/100 s ticks) and the part of the system it is. */
export interface ProcessCpu {
  label: string
  ticks: number
}

/**
 * Every process on the machine with its CPU time so far, labelled: the pids in `named` under
 * their names, then Postgres, Redis and NATS by command name, other Node processes (load
 * generators; Node 24 names its main thread `MainThread`) and the rest.
 */
export function cpuSnapshot(named: Record<string, number>): Map<number, ProcessCpu> {
  const labelOf = new Map(Object.entries(named).map(([label, pid]) => [pid, label]))
  const snapshot = new Map<number, ProcessCpu>()
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const pid = Number(entry)
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const label =
        labelOf.get(pid) ??
        (['postgres', 'redis', 'nats'].find((name) => command.startsWith(name)) ||
          (command === 'node' || command === 'MainThread' ? 'other node' : 'other'))
      snapshot.set(pid, { label, ticks: Number(fields[11]) + Number(fields[12]) })
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return snapshot
}

/**
 * CPU seconds each part of the system spent between two snapshots. A process that started in
 * between counts from zero; one that ended in between is left out (its last ticks are unknown).
 */
export function cpuSecondsBetween(before: Map<number, ProcessCpu>, after: Map<number, ProcessCpu>): Record<string, number> {
  const seconds: Record<string, number> = {}
  for (const [pid, { label, ticks }] of after) {
    seconds[label] = (seconds[label] ?? 0) + (ticks - (before.get(pid)?.ticks ?? 0)) / 100
  }
  return Object.fromEntries(Object.entries(seconds).map(([label, value]) => [label, Math.round(value * 100) / 100]))
}
