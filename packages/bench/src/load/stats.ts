/** Percentiles of latency samples in milliseconds, kept to microseconds. */
export function summarize(samples: Float64Array | number[]) {
  const sorted = Float64Array.from(samples).sort()
  const at = (q: number) => {
    if (sorted.length === 0) return 0
    const index = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)
    return round(sorted[Math.max(0, index)] as number)
  }
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: at(1) }
}

export const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  if (sorted.length === 0) return Number.NaN
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}
