import type { IncomingMessage } from 'node:http'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import t from 'tap'
import { buildTestChat } from '../helper.ts'

// gc() without starting the test process with --expose-gc.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const chat = await buildTestChat(t)

t.test('open sockets do not keep their upgrade requests alive (memory per socket)', async (t) => {
  // A FinalizationRegistry rather than WeakRef.deref(), which would keep a request alive itself.
  let seen = 0
  let collected = 0
  const registry = new FinalizationRegistry(() => {
    collected++
  })
  const observe = (request: IncomingMessage) => {
    seen++
    registry.register(request, undefined)
  }
  chat.app.server.on('upgrade', observe)
  t.teardown(() => {
    chat.app.server.off('upgrade', observe)
  })
  const sockets = []
  for (let i = 0; i < 10; i++) {
    const user = await chat.user()
    sockets.push(await user.client.chat.connect())
  }
  await Promise.all(sockets.map((socket) => socket.ping()))
  t.equal(seen, sockets.length)
  // A few rounds: finalizers run after the GC, and one GC may not find everything.
  for (let round = 0; round < 10 && collected < sockets.length - 2; round++) {
    gc()
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  // A few may stay, whatever the number of sockets: pooled objects (@fastify/jwt's verifier,
  // steed) keep the last requests they served. Before the fix, every one stayed.
  t.ok(collected >= sockets.length / 2, `requests collected while their sockets are open: ${collected} of ${sockets.length}`)
  await Promise.all(sockets.map((socket) => socket.ping()))
  t.pass('the sockets still work')
  await Promise.all(sockets.map((socket) => socket.close()))
})
