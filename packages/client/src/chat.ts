import type {
  ChatMessage,
  ChatMessageDetail,
  ClientFrame,
  ConversationPage,
  DeleteScope,
  MessagePage,
  PresenceItem,
  SendMessageBody,
  ServerFrame,
  SyncReply,
} from '@sm/contracts'
import { WebSocket } from 'ws'
import type { Http } from './http.ts'

type Frame = ServerFrame & { type: string }
type FrameOf<T extends Frame['type']> = Extract<Frame, { type: T }>

/** A frame answered with `error` (its `code`, and the `ref` it answers). */
export class ChatFrameError extends Error {
  override name = 'ChatFrameError'
  readonly code: string
  readonly ref: string | undefined

  constructor(code: string, message: string, ref?: string) {
    super(`${code}: ${message}`)
    this.code = code
    this.ref = ref
  }
}

/** Refused upgrade (e.g. 401): the HTTP status the server answered with. */
export class ChatUpgradeError extends Error {
  override name = 'ChatUpgradeError'
  readonly status: number

  constructor(status: number) {
    super(`websocket upgrade refused with ${status}`)
    this.status = status
  }
}

export interface ConnectOptions {
  /** Authenticate with a single-use ticket (as browsers do) instead of the Authorization header. */
  ticket?: string | boolean
  /** Resume after this sync cursor: everything after it is replayed from the server's log. */
  since?: string
  /** Base URL of a chat server or gateway other than the client's (e.g. a second instance). */
  baseUrl?: string
  /** Answer the server's WebSocket pings (default true); false simulates a zombie client. */
  autoPong?: boolean
}

/**
 * A chat socket: send frames, await frames by predicate. Every received frame is kept in
 * `frames`; `next()` hands out each frame at most once, so tests can await them in turn.
 */
export class ChatSocket {
  readonly ws: WebSocket
  readonly frames: Frame[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  readonly #taken = new Set<Frame>()
  #waiters: Array<{ match: (frame: Frame) => boolean; resolve: (frame: Frame) => void }> = []

  constructor(ws: WebSocket) {
    this.ws = ws
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })))
    // Errors end in 'close' (awaited through `closed`); connect() reports handshake errors itself.
    ws.on('error', () => undefined)
    ws.on('message', (data) => {
      let frame: Frame
      try {
        frame = JSON.parse(data.toString()) as Frame
      } catch {
        return
      }
      this.frames.push(frame)
      const index = this.#waiters.findIndex((w) => w.match(frame))
      if (index >= 0) {
        const [waiter] = this.#waiters.splice(index, 1)
        this.#taken.add(frame)
        waiter?.resolve(frame)
      }
    })
  }

  send(frame: ClientFrame | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(frame))
  }

  /** Anything at all (malformed JSON, binary, oversized), for testing the server's defences. */
  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary })
  }

  /** The next not-yet-taken frame matching `match` (already received, or the next to arrive). */
  next<T extends Frame['type']>(type: T, match: (frame: FrameOf<T>) => boolean = () => true, timeoutMs = 5_000): Promise<FrameOf<T>> {
    const test = (frame: Frame) => frame.type === type && match(frame as FrameOf<T>)
    const ready = this.frames.find((frame) => !this.#taken.has(frame) && test(frame))
    if (ready) {
      this.#taken.add(ready)
      return Promise.resolve(ready as FrameOf<T>)
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.#waiters.indexOf(waiter)
        if (index >= 0) this.#waiters.splice(index, 1)
        reject(new Error(`no "${type}" frame within ${timeoutMs} ms (got: ${this.frames.map((f) => f.type).join(', ')})`))
      }, timeoutMs)
      const waiter = {
        match: test,
        resolve: (frame: Frame) => {
          clearTimeout(timer)
          resolve(frame as FrameOf<T>)
        },
      }
      this.#waiters.push(waiter)
    })
  }

  /** Sends a message and resolves with the acked message, or rejects with the error frame. */
  async sendMessage(body: SendMessageBody, timeoutMs = 5_000): Promise<ChatMessage> {
    const ack = this.next('message.ack', (f) => f.clientId === body.clientId, timeoutMs)
    const error = this.next('error', (f) => f.ref === body.clientId, timeoutMs)
    this.send({ type: 'message.send', ...body })
    const first = await Promise.race([ack, error])
    if (first.type === 'error') throw new ChatFrameError(first.code, first.message, first.ref)
    return first.message
  }

  /** `sync` over the socket: everything after `since`. */
  async sync(since?: string, timeoutMs = 5_000): Promise<FrameOf<'sync'>> {
    const reply = this.next('sync', () => true, timeoutMs)
    this.send(since === undefined ? { type: 'sync' } : { type: 'sync', since })
    return reply
  }

  async ping(timeoutMs = 5_000): Promise<void> {
    const pong = this.next('pong', () => true, timeoutMs)
    this.send({ type: 'ping' })
    await pong
  }

  close(code = 1000, reason = ''): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason)
    return this.closed
  }
}

/** API.md › Chat: REST, plus the WebSocket through `connect()`. */
export class ChatApi {
  protected readonly http: Http

  constructor(http: Http) {
    this.http = http
  }

  conversations(query: { limit?: number; cursor?: string } = {}): Promise<ConversationPage> {
    return this.http.request('GET', '/chat/conversations', { query })
  }

  messages(conversationId: string, query: { before?: number; after?: number; limit?: number } = {}): Promise<MessagePage> {
    return this.http.request('GET', `/chat/conversations/${encodeURIComponent(conversationId)}/messages`, { query })
  }

  send(body: SendMessageBody): Promise<ChatMessage> {
    return this.http.request('POST', '/chat/messages', { body })
  }

  message(id: string): Promise<ChatMessageDetail> {
    return this.http.request('GET', `/chat/messages/${encodeURIComponent(id)}`)
  }

  edit(id: string, text: string): Promise<ChatMessage> {
    return this.http.request('PATCH', `/chat/messages/${encodeURIComponent(id)}`, { body: { text } })
  }

  delete(id: string, scope: DeleteScope): Promise<void> {
    return this.http.request('DELETE', `/chat/messages/${encodeURIComponent(id)}`, { query: { scope } })
  }

  react(id: string, emoji: string): Promise<{ messageId: string; reactions: ChatMessage['reactions'] }> {
    return this.http.request('PUT', `/chat/messages/${encodeURIComponent(id)}/reactions/${encodeURIComponent(emoji)}`)
  }

  unreact(id: string, emoji: string): Promise<{ messageId: string; reactions: ChatMessage['reactions'] }> {
    return this.http.request('DELETE', `/chat/messages/${encodeURIComponent(id)}/reactions/${encodeURIComponent(emoji)}`)
  }

  read(conversationId: string, seq: number): Promise<{ conversationId: string; seq: number; at: string }> {
    return this.http.request('POST', `/chat/conversations/${encodeURIComponent(conversationId)}/read`, { body: { seq } })
  }

  clear(conversationId: string): Promise<void> {
    return this.http.request('POST', `/chat/conversations/${encodeURIComponent(conversationId)}/clear`)
  }

  sync(since?: string, limit?: number): Promise<SyncReply> {
    return this.http.request('GET', '/chat/sync', { query: { since, limit } })
  }

  presence(userIds: string[]): Promise<{ items: PresenceItem[] }> {
    return this.http.request('GET', '/chat/presence', { query: { userIds: userIds.join(',') } })
  }

  ticket(): Promise<{ ticket: string; expiresIn: number }> {
    return this.http.request('POST', '/chat/ws-ticket')
  }

  /** Opens `/chat/ws` with the access token (or a ticket); rejects with ChatUpgradeError when refused. */
  async connect(opts: ConnectOptions = {}): Promise<ChatSocket> {
    const url = new URL('/chat/ws', opts.baseUrl ?? this.http.baseUrl)
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    const headers: Record<string, string> = {}
    if (opts.ticket) {
      url.searchParams.set('ticket', typeof opts.ticket === 'string' ? opts.ticket : (await this.ticket()).ticket)
    } else if (this.http.accessToken) {
      headers.authorization = `Bearer ${this.http.accessToken}`
    }
    if (opts.since !== undefined) url.searchParams.set('since', opts.since)
    const ws = new WebSocket(url, { headers, autoPong: opts.autoPong ?? true })
    const socket = new ChatSocket(ws)
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('unexpected-response', (_request, response) => {
        reject(new ChatUpgradeError(response.statusCode ?? 0))
        response.resume()
        ws.terminate()
      })
      ws.once('error', reject)
    })
    return socket
  }
}
