/**
 * Baseline: the plainest reverse proxy Node can do, `node:http` in and out with a keep-alive
 * agent, no checks at all. Run as its own process: `node node-proxy.ts <port> <upstream>`.
 */
import { Agent, createServer, request } from 'node:http'

const [portArg, upstreamArg] = process.argv.slice(2)
const upstream = new URL(upstreamArg ?? 'http://127.0.0.1:3001')
const agent = new Agent({ keepAlive: true, maxSockets: 256 })

createServer((req, res) => {
  const forward = request(
    { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers, agent },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    },
  )
  forward.on('error', () => {
    if (!res.headersSent) res.writeHead(502)
    res.end()
  })
  req.pipe(forward)
}).listen(Number(portArg), '127.0.0.1', () => process.stdout.write('listening\n'))
