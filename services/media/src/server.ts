import { runService } from '@sm/platform'
import { buildApp } from './app.ts'
import { loadMediaConfig } from './config.ts'

const config = loadMediaConfig()
const app = await buildApp(config)
await runService(app, {
  port: config.PORT,
  host: config.HOST,
  backlog: config.LISTEN_BACKLOG,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
})
