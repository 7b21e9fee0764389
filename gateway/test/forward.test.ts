import { once } from 'node:events'
import { Agent, createServer, request as httpRequest, type IncomingMessage } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import t, { type Test } from 'tap'
import { startGateway } from './helper.ts'

/** A service whose behaviour per path the test decides: big streams, slow bodies, broken answers. */
async function startScriptedUpstream(t: Test) {
  const seen: Array<{ url: string; aborted: boolean; chunksSent: number }> = []
  const server = createServer((request, response) => {
    const entry = { url: request.url ?? '', aborted: false, chunksSent: 0 }
    seen.push(entry)
    response.once('close', () => {
      if (!response.writableFinished) entry.aborted = true
    })
    if (request.url === '/media/big' || request.url === '/media/huge') {
      // 8 MiB (or 64 MiB) in 64 KiB chunks, written as the client reads.
      const chunks = request.url === '/media/big' ? 128 : 1024
      const chunk = Buffer.alloc(64 * 1024, 7)
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': chunks * chunk.length })
      const pump = () => {
        while (entry.chunksSent < chunks) {
          entry.chunksSent++
          if (!response.write(chunk)) return response.once('drain', pump)
        }
        response.end()
      }
      return pump()
    }
    if (request.url === '/media/broken') {
      response.writeHead(200, { 'content-type': 'text/plain', 'content-length': 1000 })
      response.write('only part of it')
      setTimeout(() => response.destroy(), 20)
      return
    }
    if (request.url === '/media/slow') return // never answers: the client gives up first
    if (request.url === '/media/refuse-early') {
      // Answers before reading the body, as a service refusing an oversized upload does.
      response.writeHead(413, { 'content-type': 'application/json' }).end('{"code":"TOO_LARGE"}')
      return
    }
    if (request.url === '/media/upload') {
      let bytes = 0
      request.on('data', (c: Buffer) => {
        bytes += c.length
      })
      request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes })))
      return
    }
    response.writeHead(404).end()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

const upstream = await startScriptedUpstream(t)
const gateway = await startGateway(t, { upstreams: { media: upstream.url }, listen: true })

function get(path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${gateway.url}${path}`, resolve)
    req.on('error', reject)
    req.end()
  })
}

t.test('a large response streams through byte for byte', async (t) => {
  const response = await get('/media/big')
  t.equal(response.statusCode, 200)
  t.equal(response.headers['content-length'], String(8 * 1024 * 1024))
  t.ok(response.headers['x-request-id'], 'gateway headers are added')
  t.ok(response.headers['x-content-type-options'], 'security headers are added')
  let total = 0
  let wrong = 0
  for await (const chunk of response as AsyncIterable<Buffer>) {
    total += chunk.length
    for (const byte of chunk) if (byte !== 7) wrong++
  }
  t.equal(total, 8 * 1024 * 1024)
  t.equal(wrong, 0)
})

t.test('a client that stops reading holds the service back instead of filling the gateway', async (t) => {
  const response = await get('/media/huge')
  response.pause()
  const entry = upstream.seen.at(-1)
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  // Socket buffers on both hops hold some of it; the rest waits in the service, not the gateway.
  t.ok((entry?.chunksSent ?? 0) < 1024, `the service had sent ${entry?.chunksSent} of 1024 chunks while the client read none`)
  let total = 0
  for await (const chunk of response as AsyncIterable<Buffer>) total += chunk.length
  t.equal(total, 64 * 1024 * 1024, 'and everything arrives once it reads again')
})

t.test('a streamed request body reaches the service whole', async (t) => {
  const body = Buffer.alloc(3 * 1024 * 1024, 1)
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest(
      `${gateway.url}/media/upload`,
      { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x', 'content-length': body.length } },
      resolve,
    )
    req.on('error', reject)
    req.end(body)
  })
  let text = ''
  for await (const chunk of response) text += chunk
  t.equal(response.statusCode, 200)
  t.same(JSON.parse(text), { bytes: body.length })
})

t.test('a service that dies mid-response cuts the client off instead of ending cleanly', async (t) => {
  const response = await get('/media/broken')
  t.equal(response.statusCode, 200)
  const outcome = await new Promise<string>((resolve) => {
    response.on('error', () => resolve('error'))
    response.on('aborted', () => resolve('aborted'))
    response.on('end', () => resolve(response.complete ? 'complete' : 'incomplete'))
    response.resume()
  })
  t.not(outcome, 'complete', 'the client can tell the body is short')
})

t.test('a client that hangs up abandons the upstream request too', async (t) => {
  const before = upstream.seen.length
  const req = httpRequest(`${gateway.url}/media/slow`)
  req.on('error', () => undefined)
  req.end()
  const deadline = Date.now() + 2_000
  while (upstream.seen.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  req.destroy()
  const entry = upstream.seen.at(-1)
  while (!entry?.aborted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  t.ok(entry?.aborted, 'the service sees its request closed')
})

t.test('proxied requests are counted in the gateway metrics', async (t) => {
  await get('/media/big').then((r) => r.resume())
  const metrics = await fetch(`${gateway.url}/metrics`).then((r) => r.text())
  t.match(metrics, /http_request_duration_seconds_count\{[^}]*route="\/media\/\*"[^}]*\}/)
})

t.test(
  'an answer that comes before the request body is read waits for the rest of it: the client still sending is not reset',
  async (t) => {
    const total = 512 * 1024
    const socket = connect(Number(new URL(gateway.url).port), '127.0.0.1')
    await once(socket, 'connect')
    let answer = ''
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1')
    })
    const errors: string[] = []
    socket.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message))
    const closed = once(socket, 'close')
    socket.write(
      `POST /media/refuse-early HTTP/1.1\r\nhost: gw\r\ncontent-type: multipart/form-data; boundary=x\r\ncontent-length: ${total}\r\n\r\n`,
    )
    socket.write(Buffer.alloc(1024, 1))
    const deadline = Date.now() + 2_000
    while (!answer.includes('\r\n\r\n') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
    t.match(answer, /^HTTP\/1\.1 413 /, 'the answer came before the body was sent')
    t.match(answer, /connection: close/i)
    // The rest of the body, sent after the answer, as a slow client does.
    let sent = 1024
    while (sent < total && socket.writable) {
      const size = Math.min(64 * 1024, total - sent)
      socket.write(Buffer.alloc(size, 2))
      sent += size
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    t.equal(sent, total, 'the connection stayed open until the whole body was sent')
    await closed
    t.same(errors, [], 'then the gateway closed it cleanly: no reset, no broken pipe')
  },
)

t.test(
  'an answer that comes before the request body is read closes the connection, so the next request is not stuck behind the unread body',
  async (t) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    t.teardown(() => agent.destroy())
    const body = Buffer.alloc(8 * 1024 * 1024, 2)
    const refused = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(
        `${gateway.url}/media/refuse-early`,
        { method: 'POST', agent, headers: { 'content-type': 'multipart/form-data; boundary=x', 'content-length': body.length } },
        resolve,
      )
      req.on('error', () => undefined)
      req.on('error', reject)
      req.end(body)
    })
    t.equal(refused.statusCode, 413)
    t.equal(refused.headers.connection, 'close', 'the client is told not to reuse the connection')
    refused.resume()
    const started = Date.now()
    const next = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(`${gateway.url}/media/big`, { agent }, resolve)
      req.on('error', reject)
      req.end()
    })
    next.resume()
    t.equal(next.statusCode, 200)
    t.ok(Date.now() - started < 2_000, 'the next request is answered at once')
  },
)
