import { once } from 'node:events'
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { discardRest } from '../src/discard-rest.ts'

t.test('a refused upload is read to its end before the closing answer: the client gets the 413, not a reset', async (t) => {
  let discarded = false
  const server = createServer((req, res) => {
    // Refuse after the first chunk, as the size check does mid-stream.
    req.once('data', () => {
      req.pause()
      void discardRest(req).then(() => {
        discarded = req.complete
        res.writeHead(413, { connection: 'close' }).end('too large')
      })
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const { port } = server.address() as AddressInfo
  const body = Buffer.alloc(4 * 1024 * 1024, 7)
  const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', method: 'POST', headers: { 'content-length': body.length } }, (res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    req.end(body)
  })
  t.same(answer, { status: 413, text: 'too large' })
  t.ok(discarded, 'the whole body was read before answering')
})
