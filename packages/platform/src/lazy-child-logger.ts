import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString, LogFn } from 'pino'

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
type LevelAware = FastifyBaseLogger & { isLevelEnabled(level: string): boolean }

/**
 * A request's logger that becomes pino's child only when something is logged at an enabled
 * level. Fastify makes a child per request to carry `reqId`, and pino's `child()` serializes the
 * bindings (through the redaction stringifiers) on the spot: a few percent of a hot route's CPU,
 * wasted whenever the level (e.g. `warn` in production) means the request logs nothing.
 */
class LazyChildLogger implements FastifyBaseLogger {
  readonly #parent: LevelAware
  readonly #bindings: Bindings
  #child: FastifyBaseLogger | undefined

  constructor(parent: LevelAware, bindings: Bindings) {
    this.#parent = parent
    this.#bindings = bindings
  }

  #real(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings)
    return this.#child
  }

  /** Logs through the real child, made now if it does not exist yet and the level is enabled. */
  logAt(level: Level, args: Parameters<LogFn>): void {
    if (this.#child || this.#parent.isLevelEnabled(level)) this.#real()[level](...args)
  }

  // One function per level on the prototype (below), not per instance: a request's logger is
  // allocated on every request.
  declare fatal: LogFn
  declare error: LogFn
  declare warn: LogFn
  declare info: LogFn
  declare debug: LogFn
  declare trace: LogFn
  declare silent: LogFn

  get level(): LevelWithSilentOrString {
    return (this.#child ?? this.#parent).level
  }

  set level(level: LevelWithSilentOrString) {
    this.#real().level = level
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options)
  }
}

for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const) {
  LazyChildLogger.prototype[level] = function (this: LazyChildLogger, ...args: Parameters<LogFn>) {
    this.logAt(level, args)
  } as LogFn
}
LazyChildLogger.prototype.silent = () => {}

/**
 * Fastify's `childLoggerFactory` with lazy children. A route with its own log level or
 * serializers, or a parent that cannot answer `isLevelEnabled`, gets pino's child at once.
 */
export function lazyChildLoggerFactory(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  const levelAware = typeof (logger as Partial<LevelAware>).isLevelEnabled === 'function'
  if (!levelAware || options.level !== undefined || options.serializers !== undefined) return logger.child(bindings, options)
  return new LazyChildLogger(logger as LevelAware, bindings)
}
