export interface BenchOptions {
  reps: number
  durationS: number
  warmupS: number
  rateDurationS: number
  connections: number
}

export const defaultOptions: BenchOptions = { reps: 3, durationS: 8, warmupS: 2, rateDurationS: 5, connections: 50 }
