import {
  type App,
  authOptions,
  authPlugin,
  buildService,
  OutboxRelay,
  openInfrastructure,
  PublicKeyStore,
  serveRequests,
} from '@sm/platform'
import type { AuthConfig } from './config.ts'
import type { AuthDatabase } from './db/database.ts'
import { migrations } from './db/migrations/index.ts'
import { accountRoutes } from './routes/account.routes.ts'
import { jwksRoutes } from './routes/jwks.routes.ts'
import { passwordRoutes } from './routes/password.routes.ts'
import { sessionRoutes } from './routes/session.routes.ts'
import { AccountsService } from './services/accounts.service.ts'
import { AttemptLimiter } from './services/attempt-limiter.ts'
import { createMailer } from './services/mailer.ts'
import { OtpService } from './services/otp.service.ts'
import { PasswordFlows } from './services/passwords.service.ts'
import { SigningKeys } from './services/signing-keys.ts'
import { TokenService } from './services/tokens.service.ts'

export const SCHEMA = 'auth'

/**
 * The auth service: accounts, sessions (rotating refresh tokens), password flows by mailed
 * OTP, and the keys that sign every access token in the system.
 */
export async function buildApp(config: AuthConfig): Promise<App> {
  const infra = await openInfrastructure<AuthDatabase>({ name: 'auth', schema: SCHEMA, migrations, config })
  const { db, redis, bus } = infra
  const keys = await SigningKeys.load(db, config.JWT_PRIVATE_KEY)

  const app = await buildService({
    name: 'auth',
    logLevel: config.LOG_LEVEL,
    description: 'Accounts, sessions, password flows and token signing keys',
    readiness: infra.readiness,
  })

  const relay = new OutboxRelay(db, bus, app.log)
  relay.start()
  // Other services (and the gateway) learn the verification keys over NATS.
  const jwksResponder = serveRequests(bus.nc, config.namespace, 'auth.jwks', async () => keys.jwks, app.log)
  const mailer = createMailer(config.SMTP_URL, config.MAIL_FROM, app.log)

  await app.register(authPlugin, authOptions(new PublicKeyStore({ jwks: keys.jwks }), config))

  const tokens = new TokenService(keys, {
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    accessTtlSeconds: config.ACCESS_TOKEN_TTL_S,
    refreshTtlSeconds: config.REFRESH_TOKEN_TTL_S,
  })
  const loginFailures = new AttemptLimiter(redis, 'login', { max: config.LOGIN_MAX_FAILURES, windowSeconds: config.LOGIN_LOCK_WINDOW_S })
  const accounts = new AccountsService({ db, tokens, relay, loginFailures, bcryptCost: config.BCRYPT_COST })
  const otp = new OtpService({ ttlSeconds: config.OTP_TTL_S, maxAttempts: config.OTP_MAX_ATTEMPTS })
  const window = { windowSeconds: config.OTP_LIMIT_WINDOW_S }
  const passwords = new PasswordFlows({
    db,
    otp,
    mailer,
    log: app.log,
    bcryptCost: config.BCRYPT_COST,
    otpTtlSeconds: config.OTP_TTL_S,
    codeRequests: new AttemptLimiter(redis, 'otp-requests', { max: config.OTP_MAX_REQUESTS, ...window }),
    codeAttempts: new AttemptLimiter(redis, 'otp-attempts', { max: config.OTP_MAX_SUBMISSIONS, ...window }),
  })

  await app.register(sessionRoutes, { accounts })
  await app.register(accountRoutes, { accounts })
  await app.register(passwordRoutes, { passwords })
  await app.register(jwksRoutes, { keys })

  app.addHook('onClose', async () => {
    jwksResponder.unsubscribe()
    await relay.stop()
    mailer.close()
    await infra.close(app.log)
  })
  return app
}
