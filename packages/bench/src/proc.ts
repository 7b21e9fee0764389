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

/** A process's command name and CPU time so far in seconds, user and system (Linux `/proc/<pid>/stat`). */
export function processStat(pid: number): { command: string; user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command sits in parentheses and may hold spaces; the numeric fields follow the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return {
    command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    user: Number(fields[11]) / 100,
    system: Number(fields[12]) / 100,
  }
}

/** User + system CPU seconds a process has used so far. */
export function cpuSeconds(pid: number): number {
  const { user, system } = processStat(pid)
  return user + system
}

/** One process's CPU time so far (user + system, seconds) and the part of the system it is. */
export interface ProcessCpu {
  label: string
  seconds: number
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
      const { command, user, system } = processStat(pid)
      const label =
        labelOf.get(pid) ??
        (['postgres', 'redis', 'nats'].find((name) => command.startsWith(name)) ||
          (command === 'node' || command === 'MainThread' ? 'other node' : 'other'))
      snapshot.set(pid, { label, seconds: user + system })
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
  for (const [pid, process] of after) {
    seconds[process.label] = (seconds[process.label] ?? 0) + process.seconds - (before.get(pid)?.seconds ?? 0)
  }
  return Object.fromEntries(Object.entries(seconds).map(([label, value]) => [label, Math.round(value * 100) / 100]))
}
