/**
 * Preloaded (`node --import <this file>`) into a process whose garbage outlives its requests.
 * When the file named by SURVIVORS_TRIGGER appears, it runs V8's sampling heap profiler for
 * SURVIVORS_SECONDS (default 6) keeping only objects that outlived a scavenge (collected by a
 * major GC, or still alive at the end), and writes the profile to SURVIVORS_OUT.
 *
 * Why: objects promoted out of the young generation are what make scavenges long and major
 * GCs frequent; a CPU profile shows the GC's time but not whose objects it spent it on.
 * Read the result with printSurvivors (survivors.ts).
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'

const trigger = process.env.SURVIVORS_TRIGGER
const out = process.env.SURVIVORS_OUT
const seconds = Number(process.env.SURVIVORS_SECONDS ?? 6)

if (trigger && out) {
  const session = new Session()
  session.connect()
  const poll = setInterval(() => {
    if (!existsSync(trigger)) return
    clearInterval(poll)
    rmSync(trigger, { force: true })
    void sample()
  }, 50)
  poll.unref()
  async function sample(): Promise<void> {
    await session.post('HeapProfiler.enable')
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 16_384,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: false,
    })
    setTimeout(async () => {
      const { profile } = await session.post('HeapProfiler.stopSampling')
      writeFileSync(out as string, JSON.stringify(profile))
    }, seconds * 1000).unref()
  }
}
