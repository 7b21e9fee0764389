// First: V8 settings that must be in place before anything else allocates (v8-flags.ts).
import '@sm/platform/v8-flags'
import { runService } from '@sm/platform'
import { buildApp } from './app.ts'
import { loadSocialConfig } from './config.ts'

const config = loadSocialConfig()
const app = await buildApp(config)
await runService(app, {
  port: config.PORT,
  host: config.HOST,
  backlog: config.LISTEN_BACKLOG,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
})
