export interface BenchOptions {
  reps: number
  durationS: number
  warmupS: number
  rateDurationS: number
  /**
   * Seconds each open-loop run sends at its rate before recording. V8 regrows a heap that shrank
   * while its process sat idle between runs: the major GCs of the first ~3 s after load resumes
   * (and their helper threads, on a 2-core box) put 20–50 ms into p99 that steady load never sees.
   */
  rateWarmupS: number
  connections: number
  /** Chat: connected users (two per conversation) and messages per second over all of them. */
  sockets: number
  messageRate: number
  /** Social seed sizes. */
  seedUsers: number
  seedPosts: number
  seedFollowsPerUser: number
}

export const defaultOptions: BenchOptions = {
  reps: 3,
  durationS: 8,
  warmupS: 2,
  rateDurationS: 5,
  rateWarmupS: 5,
  connections: 50,
  sockets: 2000,
  messageRate: 2000,
  seedUsers: 10_000,
  seedPosts: 1_000_000,
  seedFollowsPerUser: 30,
}
