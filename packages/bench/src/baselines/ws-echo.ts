/**
 * Baseline: a bare `ws` server that echoes every frame, as its own process:
 * `node ws-echo.ts <port>`. It also answers HTTP GET /health so the stack launcher's checks pass
 * when the gateway is pointed at it as "chat".
 */
import { createServer } from 'node:http'
import { WebSocketServer } from 'ws'

const server = createServer((request, response) => {
  response.writeHead(request.url === '/health' ? 200 : 404, { 'content-type': 'application/json' }).end('{"status":"ok"}')
})
const wss = new WebSocketServer({ server, perMessageDeflate: false })
wss.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
})
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write('listening\n'))
