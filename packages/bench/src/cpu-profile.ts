import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>
  samples: number[]
  timeDeltas: number[]
}

/**
 * Prints the functions with the most self time in the first `.cpuprofile` of `dir` (written by
 * `node --cpu-prof --cpu-prof-dir=dir`), as shares of busy (non-idle) time, then the same grouped
 * by package or source file. Package paths are shortened to `name@version`.
 */
export function printCpuProfile(dir: string, top = 30): void {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
  if (!file) {
    console.log(`no .cpuprofile in ${dir}`)
    return
  }
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const frame = byNode.get(id)?.callFrame
    const where = (frame?.url ?? '').replace(/.*node_modules\/\.pnpm\/([^/]+)\/.*/, '$1').replace(/.*\/work\/main\//, '')
    const key = `${frame?.functionName || '(anon)'} ${where}:${frame?.lineNumber}`
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  const busy = [...self].filter(([key]) => !key.startsWith('(idle)'))
  const total = busy.reduce((sum, [, us]) => sum + us, 0)
  const share = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)}%`
  console.log('--- self time, share of busy time')
  for (const [key, us] of busy.sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${share(us)}  ${key}`)
  const byPackage = new Map<string, number>()
  for (const [key, us] of busy) {
    const where = key.split(' ')[1]?.split(':')[0] ?? '?'
    const pkg = where.includes('/') ? where.split('/').slice(0, 3).join('/') : where
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us)
  }
  console.log('--- by package or file')
  for (const [key, us] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${share(us)}  ${key}`)
}
