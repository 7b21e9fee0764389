import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** `node --import` this to sample what outlives a scavenge (see survivors-probe.ts). */
export const survivorsProbePath = fileURLToPath(new URL('./survivors-probe.ts', import.meta.url))

interface SamplingNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: SamplingNode[]
}

/**
 * Prints where the objects that outlived a scavenge were allocated: by allocating function, and
 * by the project's own frames on the stack (which request path they belong to).
 */
export function printSurvivors(file: string, top = 20): void {
  if (!existsSync(file)) {
    console.log(`no survivors profile at ${file}`)
    return
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { head: SamplingNode; samples: Array<{ nodeId: number; size: number }> }
  const bytesAt = new Map<number, number>()
  for (const sample of profile.samples) bytesAt.set(sample.nodeId, (bytesAt.get(sample.nodeId) ?? 0) + sample.size)
  const self = new Map<string, number>()
  const ours = new Map<string, number>()
  const add = (map: Map<string, number>, key: string, bytes: number) => map.set(key, (map.get(key) ?? 0) + bytes)
  const walk = (node: SamplingNode, stack: string[]) => {
    const frame = node.callFrame
    const where = frame.url.replace(/.*node_modules\/\.pnpm\/([^/]+)\/.*/, '$1').replace(/.*\/work\/main\//, '')
    const key = `${frame.functionName || '(anon)'} ${where}:${frame.lineNumber + 1}`
    const path = [...stack, key]
    const bytes = bytesAt.get(node.id) ?? 0
    if (bytes > 0) {
      add(self, key, bytes)
      for (const entry of new Set(path.filter((k) => /^\S+ (services|packages|gateway)\//.test(k)))) add(ours, entry, bytes)
    }
    for (const child of node.children ?? []) walk(child, path)
  }
  walk(profile.head, [])
  const total = [...self.values()].reduce((sum, bytes) => sum + bytes, 0)
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1).padStart(7)} MB`
  console.log(`--- outlived a scavenge: ${mb(total)} sampled, by allocating function`)
  for (const [key, bytes] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${mb(bytes)}  ${key}`)
  console.log('--- by the project frame on the stack (inclusive)')
  for (const [key, bytes] of [...ours].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${mb(bytes)}  ${key}`)
}
