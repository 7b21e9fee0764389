import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { repoRoot } from '@sm/testing'

export interface Row {
  id: string
  measure: string
  value: number | string
  target: string
  met: boolean | null
}

export interface ScenarioResult {
  scenario: string
  rows: Row[]
  /** Raw measurements, per repetition, for anyone who wants to recompute. */
  raw: unknown
  notes: string[]
}

export function machine() {
  const cpu = cpus()
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
    command: `pnpm bench ${process.argv.slice(2).join(' ')}`.trim(),
  }
}

/** Writes bench/results/<scenario>.json and .md; returns the Markdown. */
export function writeResult(result: ScenarioResult): string {
  const dir = join(repoRoot, 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  const about = machine()
  writeFileSync(join(dir, `${result.scenario}.json`), `${JSON.stringify({ machine: about, ...result }, null, 2)}\n`)
  const lines = [
    `### ${result.scenario}`,
    '',
    `${about.date.slice(0, 10)}, ${about.cores} × ${about.cpu}, Node ${about.node}, \`${about.command}\``,
    '',
    '| # | measure | result | target | met |',
    '|---|---|---|---|---|',
    ...result.rows.map((r) => `| ${r.id} | ${r.measure} | ${r.value} | ${r.target} | ${r.met === null ? '—' : r.met ? 'yes' : 'no'} |`),
    '',
    ...result.notes.map((n) => `- ${n}`),
    '',
  ]
  const markdown = lines.join('\n')
  writeFileSync(join(dir, `${result.scenario}.md`), markdown)
  return markdown
}
