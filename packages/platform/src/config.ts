import { type Static, type TObject, type TProperties, type TSchema, Type } from 'typebox'
import { Value } from 'typebox/value'

/** Settings every process shares; services extend this with their own. Defaults: API.md › Operations. */
export const BaseConfig = Type.Object({
  NODE_ENV: Type.String({ default: 'development' }),
  LOG_LEVEL: Type.Union(
    [
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('trace'),
      Type.Literal('silent'),
    ],
    { default: 'info' },
  ),
  HOST: Type.String({ default: '127.0.0.1' }),
  DATABASE_URL: Type.String({ default: 'postgres://postgres@127.0.0.1:5432/socialmedia' }),
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379' }),
  NATS_URL: Type.String({ default: 'nats://127.0.0.1:4222' }),
  /**
   * Prefix for NATS subjects/streams and Redis keys. Empty means "derive from the database
   * name", so two stacks with different databases never share events or keys.
   */
  NAMESPACE: Type.String({ default: '', pattern: '^[a-z0-9_]*$' }),
  JWT_ISSUER: Type.String({ default: 'socialmedia-auth' }),
  JWT_AUDIENCE: Type.String({ default: 'socialmedia' }),
  /** PEM of the Ed25519 public key. Unset: fetched from auth's JWKS over NATS. */
  JWT_PUBLIC_KEY: Type.String({ default: '' }),
  /**
   * Verified access tokens an instance remembers (by hash, until they expire), so a client's
   * next request skips the signature check. About 0.4 KB each; 0 turns it off.
   */
  JWT_CACHE_SIZE: Type.Integer({ default: 10_000, minimum: 0, maximum: 1_000_000 }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 100 }),
  /**
   * Connections the kernel holds for accept() (capped by net.core.somaxconn). Node's 511 was
   * too few for a reconnect storm: 1,000 sockets at once overflowed the gateway's and chat's
   * queues, and a dropped handshake ACK can stall a connection for many seconds.
   */
  LISTEN_BACKLOG: Type.Integer({ default: 4096, minimum: 1 }),
})
export type BaseConfig = Static<typeof BaseConfig>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/**
 * Reads, defaults and type-converts env variables against a schema. Every problem is
 * reported at once, naming the variable, so a misconfigured deploy fails at start, loudly.
 */
export type Config<P extends TProperties> = Static<TObject<P>> & BaseConfig & { namespace: string }

export function loadConfig<P extends TProperties>(serviceProperties: P, env: Record<string, string | undefined> = process.env): Config<P> {
  const schema = Type.Object({ ...BaseConfig.properties, ...serviceProperties })
  const picked: Record<string, unknown> = {}
  for (const key of Object.keys(schema.properties)) {
    const raw = env[key]
    if (raw !== undefined && raw !== '') picked[key] = raw
  }
  const value = Value.Convert(schema, Value.Default(schema, picked)) as Record<string, unknown>
  // One line per variable: a union reports once per branch, which says nothing useful.
  const problems = new Map<string, string>()
  for (const key of Object.keys(schema.properties)) {
    const property = schema.properties[key] as TSchema & { anyOf?: Array<{ const?: unknown }> }
    if (Value.Check(property, value[key])) continue
    const allowed = property.anyOf?.map((branch) => branch.const).filter((c) => c !== undefined)
    const given = JSON.stringify(value[key])
    problems.set(key, allowed?.length ? `must be one of ${allowed.join(', ')} (got ${given})` : `${describe(property)} (got ${given})`)
  }
  if (problems.size > 0) {
    const lines = [...problems].map(([key, problem]) => `  ${key}: ${problem}`)
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`)
  }
  const config = value as BaseConfig
  return { ...config, namespace: config.NAMESPACE || namespaceFromDatabaseUrl(config.DATABASE_URL) } as Config<P>
}

export function namespaceFromDatabaseUrl(databaseUrl: string): string {
  const name = new URL(databaseUrl).pathname.replace(/^\//, '') || 'postgres'
  return name.toLowerCase().replace(/[^a-z0-9_]/g, '_')
}

function describe(schema: TSchema & { type?: string; minimum?: number; maximum?: number; pattern?: string }): string {
  const bounds = [schema.minimum !== undefined && `>= ${schema.minimum}`, schema.maximum !== undefined && `<= ${schema.maximum}`]
    .filter(Boolean)
    .join(' and ')
  if (schema.pattern) return `must match ${schema.pattern}`
  return `must be ${schema.type === 'integer' ? 'an integer' : `a ${schema.type ?? 'valid value'}`}${bounds ? ` ${bounds}` : ''}`
}
