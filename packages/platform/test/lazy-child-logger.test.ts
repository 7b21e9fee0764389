import { Writable } from 'node:stream'
import Fastify from 'fastify'
import pino from 'pino'
import t from 'tap'
import { lazyChildLoggerFactory } from '../src/lazy-child-logger.ts'

function capture(level: string) {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  const logger = pino({ level, redact: { paths: ['*.password'], censor: '[redacted]' } }, stream)
  let children = 0
  const child = logger.child
  // Counts every child made; pino's children inherit this from the root, so `this` is kept.
  logger.child = function (this: typeof logger, ...args: Parameters<typeof child>) {
    children++
    return child.apply(this, args)
  } as typeof logger.child
  return { logger, lines, children: () => children }
}

t.test('nothing is built for a level that is off; an enabled one logs with the bindings', async (t) => {
  const { logger, lines, children } = capture('warn')
  const log = lazyChildLoggerFactory(logger, { reqId: 'r1' }, {})
  log.info({ a: 1 }, 'quiet')
  log.debug('quiet')
  log.silent('quiet')
  t.equal(children(), 0, 'no pino child for suppressed levels')
  t.equal(log.level, 'warn', 'the level is the parent’s until a child exists')
  log.warn({ user: { password: 'hunter2' } }, 'loud')
  log.error('louder')
  t.equal(children(), 1, 'one child, made on the first enabled call and kept')
  t.match(lines, [
    { level: 40, reqId: 'r1', msg: 'loud', user: { password: '[redacted]' } },
    { level: 50, reqId: 'r1', msg: 'louder' },
  ])
})

t.test('children of the lazy logger and level changes keep the request’s bindings', async (t) => {
  const { logger, lines } = capture('info')
  const log = lazyChildLoggerFactory(logger, { reqId: 'r2' }, {})
  log.child({ part: 'db' }).info('nested')
  log.level = 'error'
  log.warn('dropped')
  log.error('kept')
  t.equal(log.level, 'error')
  t.equal(logger.level, 'info', 'the parent’s level is untouched')
  t.match(lines, [
    { reqId: 'r2', part: 'db', msg: 'nested' },
    { reqId: 'r2', msg: 'kept' },
  ])
  t.equal(lines.length, 2)
})

t.test('a route level of its own gets a real child at once', async (t) => {
  const { logger, lines, children } = capture('warn')
  const log = lazyChildLoggerFactory(logger, { reqId: 'r3' }, { level: 'debug' })
  t.equal(children(), 1)
  log.debug('route debug')
  t.match(lines, [{ reqId: 'r3', msg: 'route debug' }])
})

t.test('as Fastify’s factory: request logs carry the request id', async (t) => {
  const { logger, lines } = capture('warn')
  const app = Fastify({ loggerInstance: logger, childLoggerFactory: lazyChildLoggerFactory, genReqId: () => 'req-7' })
  app.get('/', async (request) => {
    request.log.warn('handled')
    return { ok: true }
  })
  t.teardown(() => app.close())
  const response = await app.inject({ method: 'GET', url: '/' })
  t.equal(response.statusCode, 200)
  t.match(
    lines.filter((line) => line.msg === 'handled'),
    [{ reqId: 'req-7', level: 40 }],
  )
  t.notOk(
    lines.some((line) => line.msg === 'incoming request'),
    'info-level request logs stay off at warn',
  )
})
