import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '@sm/testing'
import t from 'tap'

// The flags only hold for what is allocated after them (packages/platform/src/v8-flags.ts), so
// every process's entry point must load them before any other module.
t.test('every entry point sets the V8 flags before importing anything else', async (t) => {
  const entries = [
    ...readdirSync(join(repoRoot, 'services')).map((name) => join('services', name, 'src/server.ts')),
    'gateway/src/server.ts',
  ]
  t.ok(entries.length >= 6, `${entries.length} entry points`)
  for (const entry of entries) {
    const firstImport = readFileSync(join(repoRoot, entry), 'utf8')
      .split('\n')
      .find((line) => line.startsWith('import '))
    t.equal(firstImport, "import '@sm/platform/v8-flags'", entry)
  }
})
