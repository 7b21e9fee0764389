/**
 * Runs teardown steps in order, each even if an earlier one failed, and names the step that
 * failed on stderr. Removing a test's leftovers (database, stream, keys) is housekeeping: a
 * hiccup there is reported, not turned into a test failure. Closing the code under test is
 * not housekeeping: pass it as `strict` and its error is rethrown after the rest has run.
 */
export async function cleanup(steps: Record<string, () => unknown>, strict: string[] = []): Promise<void> {
  let failure: unknown
  for (const [name, step] of Object.entries(steps)) {
    try {
      await step()
    } catch (error) {
      process.stderr.write(`teardown step "${name}" failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
      if (strict.includes(name) && failure === undefined) failure = error
    }
  }
  if (failure !== undefined) throw failure
}
