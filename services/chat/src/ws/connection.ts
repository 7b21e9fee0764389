import { CHAT_FRAME_MAX_BYTES, type ChatMessage, type ClientFrame, clientFrames, type ServerFrame } from '@sm/contracts'
import { firstError, HttpError, validatorFor } from '@sm/platform'
import type { FastifyBaseLogger } from 'fastify'
import type { WebSocket } from 'ws'
import type { ChatConfig } from '../config.ts'
import type { LiveEnvelope } from '../services/delivery.ts'
import { decodeCursor, encodeCursor } from '../services/views.ts'
import type { Hub } from './hub.ts'

/** How long an out-of-order live frame waits for the missing ones before they are read from Postgres. */
const GAP_WAIT_MS = 150
const STRIKE_WINDOW_MS = 10_000

/**
 * One client socket: validates and rate-limits what the client sends, and hands the user's
 * log frames over exactly once and in seq order, whatever order NATS, the offline queue and
 * Postgres deliver them in.
 */
export class Connection {
  readonly id: string
  readonly userId: string
  readonly username: string
  readonly ws: WebSocket
  readonly #hub: Hub
  readonly #config: ChatConfig
  readonly #baseLog: FastifyBaseLogger
  readonly #requestId: string
  #childLog: FastifyBaseLogger | undefined

  /** The user's event seq handed to this socket, in order, without gaps. */
  lastSeq = 0
  /** Which of the hub's heartbeat ticks pings this socket (set by the hub on attach). */
  beatSlot = 0
  alive = true
  closed = false
  #ready = false
  // The collections below are made when first needed and dropped when empty where that is
  // cheap: most sockets never use most of them, and each empty Map or Set costs ~150 bytes.
  #buffered: LiveEnvelope[] | undefined
  #pending: Map<number, LiveEnvelope> | undefined
  #filling = false
  #gapTimer: NodeJS.Timeout | undefined
  #tokens: number
  #refilledAt = Date.now()
  #strikes = 0
  #strikesSince = Date.now()
  #typingTokens: number
  #typingRefilledAt = Date.now()
  #typing: Map<string, { peerId: string; timer: NodeJS.Timeout }> | undefined
  #peers: Map<string, string> | undefined
  /** clientIds sent on this socket: it gets their `message.ack`, never their `message.new`. */
  #sentClientIds: Set<string> | undefined

  constructor(opts: {
    id: string
    userId: string
    username: string
    ws: WebSocket
    hub: Hub
    config: ChatConfig
    log: FastifyBaseLogger
    /** The upgrade request's id, for log lines. */
    requestId: string
  }) {
    this.id = opts.id
    this.userId = opts.userId
    this.username = opts.username
    this.ws = opts.ws
    this.#hub = opts.hub
    this.#config = opts.config
    this.#baseLog = opts.log
    this.#requestId = opts.requestId
    this.#tokens = opts.config.FRAME_BURST
    this.#typingTokens = opts.config.TYPING_RATE_PER_S
  }

  /** A child logger is made when first needed: one per socket up front costs ~0.5 KB each. */
  get log(): FastifyBaseLogger {
    this.#childLog ??= this.#baseLog.child({ reqId: this.#requestId, connectionId: this.id })
    return this.#childLog
  }

  // ── Startup: catch up, then go live ──

  /**
   * `floor` is the user's position read before the live subscription existed; the log is read
   * from the start to its end, and what is newer arrives live, deduplicated by seq.
   * With `since` (the client's last cursor) the start is that cursor, clamped to `floor`: a
   * cursor past it (or garbage) starts from "now", and cannot swallow a message that arrives
   * while the socket catches up. The offline queue is dropped, the log holds all of it.
   * Without, the queue is drained and its frames go first, whichever device drained it.
   */
  async start(since: string | undefined, floor: number): Promise<void> {
    if (since !== undefined) {
      let start: number | undefined
      try {
        start = decodeCursor(since)
      } catch (error) {
        this.sendError(error, undefined)
      }
      await this.#hub.delivery.drain(this.userId)
      this.lastSeq = Math.min(start ?? floor, floor)
      await this.#fill()
    } else {
      let start = floor
      const queued = await this.#hub.delivery.drain(this.userId)
      const first = queued[0]
      if (first) {
        start = Math.min(first.seq - 1, start)
        const fresh = await this.#hub.freshFrames(this.userId, queued)
        this.#pending ??= new Map()
        for (const entry of fresh) this.#pending.set(entry.seq, { frame: entry.frame, seq: entry.seq })
      }
      this.lastSeq = start
      await this.#fill()
    }
    this.#ready = true
    const buffered = this.#buffered ?? []
    this.#buffered = undefined
    for (const envelope of buffered) this.offer(envelope)
  }

  /** A frame for this user from the hub (NATS) or the queue. */
  offer(envelope: LiveEnvelope): void {
    if (this.closed) return
    if (envelope.seq === undefined) {
      if (envelope.except !== this.id) this.send(envelope.frame)
      return
    }
    if (!this.#ready) {
      this.#buffered ??= []
      this.#buffered.push(envelope)
      return
    }
    if (envelope.seq <= this.lastSeq) return
    if (envelope.seq === this.lastSeq + 1 && !this.#filling) {
      this.#emit(envelope)
      this.#flushPending()
      return
    }
    this.#pending ??= new Map()
    this.#pending.set(envelope.seq, envelope)
    this.#scheduleGapFill()
  }

  #scheduleGapFill(): void {
    if (!this.#pending?.size || this.closed) return
    this.#gapTimer ??= setTimeout(() => {
      this.#gapTimer = undefined
      if (!this.#pending?.size) return
      const highest = Math.max(...this.#pending.keys())
      this.#fill(highest).catch((error: unknown) => this.log.error({ err: error }, 'chat socket: gap fill failed'))
    }, GAP_WAIT_MS)
  }

  #flushPending(): void {
    const pending = this.#pending
    if (!pending) return
    for (;;) {
      const next = pending.get(this.lastSeq + 1)
      if (!next) break
      pending.delete(this.lastSeq + 1)
      this.#emit(next)
    }
    for (const seq of pending.keys()) if (seq <= this.lastSeq) pending.delete(seq)
    if (pending.size === 0 && this.#pending === pending) this.#pending = undefined
  }

  /** Hands over everything up to `upTo` (or the log's end): what is pending in order, the rest read from the log. */
  async #fill(upTo?: number): Promise<void> {
    if (this.#filling) return
    this.#filling = true
    try {
      this.#flushPending()
      while ((upTo === undefined || this.lastSeq < upTo) && !this.closed) {
        const before = this.lastSeq
        const page = await this.#hub.chat.queries.sync(this.userId, encodeCursor(this.lastSeq), 500, upTo)
        for (const frame of page.events) {
          const seq = decodeCursor(frame.cursor)
          if (seq !== this.lastSeq + 1) continue
          this.#emit({ frame, seq: decodeCursor(frame.cursor) })
          this.#flushPending()
        }
        // The log is gap-free; should a page not move us forward, stop rather than spin.
        if (this.lastSeq === before || (upTo === undefined && !page.hasMore)) break
      }
    } finally {
      this.#filling = false
    }
    this.#flushPending()
    this.#scheduleGapFill()
  }

  #emit(envelope: LiveEnvelope): void {
    this.lastSeq = envelope.seq as number
    const frame = envelope.frame as { type: string; message?: ChatMessage }
    if (envelope.except === this.id) return
    // Gap fills come from the log, which does not know the sending socket: recognise our own sends.
    if (frame.type === 'message.new' && frame.message?.senderId === this.userId && this.#sentClientIds?.has(frame.message.clientId)) return
    this.send(envelope.frame)
    if (frame.type === 'message.new' && frame.message && frame.message.senderId !== this.userId) {
      this.#noteDelivered(frame.message.conversationId, frame.message.seq)
    }
  }

  /** Receipts are coalesced by the receipts service: a burst costs one statement in all. */
  #noteDelivered(conversationId: string, seq: number): void {
    this.#hub.chat.receipts
      .markDelivered(this.userId, conversationId, seq)
      .catch((error: unknown) => this.log.error({ err: error }, 'chat socket: delivered receipt failed'))
  }

  send(frame: ServerFrame | Record<string, unknown>): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return
    this.ws.send(JSON.stringify(frame))
  }

  sendError(error: unknown, ref: string | undefined): void {
    if (error instanceof HttpError) {
      this.send({ type: 'error', code: error.code, message: error.message, ...(ref ? { ref } : {}) })
      return
    }
    this.log.error({ err: error }, 'chat socket: frame failed')
    this.send({ type: 'error', code: 'INTERNAL', message: 'internal error', ...(ref ? { ref } : {}) })
  }

  #fail(code: string, message: string, ref?: string): undefined {
    this.send({ type: 'error', code, message, ...(ref ? { ref } : {}) })
    return undefined
  }

  // ── Client frames ──

  handle(data: Buffer, isBinary: boolean): void {
    if (this.closed || !this.#takeToken()) return
    const frame = this.#parse(data, isBinary)
    if (frame) this.#dispatch(frame).catch((error: unknown) => this.sendError(error, refOf(frame)))
  }

  /** The frame, or undefined after answering with an error frame (the socket stays open). */
  #parse(data: Buffer, isBinary: boolean): ClientFrame | undefined {
    if (data.length > CHAT_FRAME_MAX_BYTES) return this.#fail('FRAME_TOO_LARGE', `frames are limited to ${CHAT_FRAME_MAX_BYTES} bytes`)
    if (isBinary) return this.#fail('INVALID_FRAME', 'frames are JSON text')
    let parsed: unknown
    try {
      parsed = JSON.parse(data.toString('utf8'))
    } catch {
      return this.#fail('INVALID_JSON', 'frame is not valid JSON')
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || typeof (parsed as { type?: unknown }).type !== 'string') {
      return this.#fail('VALIDATION', 'a frame is an object with a string `type`')
    }
    const type = (parsed as { type: string }).type
    if (!Object.hasOwn(clientFrames, type)) return this.#fail('UNKNOWN_TYPE', `unknown frame type "${type.slice(0, 40)}"`)
    const schema = clientFrames[type as keyof typeof clientFrames]
    if (!validatorFor(schema).Check(parsed)) return this.#fail('VALIDATION', `${type}: ${firstError(schema, parsed)}`, refOf(parsed))
    return parsed as ClientFrame
  }

  async #dispatch(frame: ClientFrame): Promise<void> {
    const chat = this.#hub.chat
    switch (frame.type) {
      case 'message.send': {
        const { type: _type, ...body } = frame
        this.#sentClientIds ??= new Set()
        this.#sentClientIds.add(frame.clientId)
        if (this.#sentClientIds.size > 1000) this.#sentClientIds.delete(this.#sentClientIds.values().next().value as string)
        const { message } = await chat.messages.send({ id: this.userId, username: this.username }, body, this.id)
        this.send({ type: 'message.ack', clientId: frame.clientId, message })
        return
      }
      case 'message.edit':
        await chat.messages.edit(this.userId, frame.messageId, frame.text)
        return
      case 'message.delete':
        await chat.messages.remove(this.userId, frame.messageId, frame.scope)
        return
      case 'message.react':
      case 'message.unreact':
        await chat.messages.react(this.userId, frame.messageId, frame.emoji, frame.type === 'message.react' ? 'add' : 'remove')
        return
      case 'read':
        await chat.receipts.read(this.userId, frame.conversationId, frame.seq)
        return
      case 'typing':
        await this.#onTyping(frame.conversationId, frame.state)
        return
      case 'sync': {
        const page = await chat.queries.sync(this.userId, frame.since)
        this.send({ type: 'sync', ...page })
        return
      }
      case 'ping':
        this.send({ type: 'pong' })
        return
    }
  }

  /** Not stored: relayed to the peer, refreshed by the client, ended by the server when it stops. */
  async #onTyping(conversationId: string, state: 'start' | 'stop'): Promise<void> {
    if (!this.#takeTypingToken()) throw new HttpError(429, 'RATE_LIMITED', 'typing frames are rate limited')
    let peerId = this.#peers?.get(conversationId)
    if (!peerId) {
      peerId = await this.#hub.chat.queries.peerIn(this.userId, conversationId)
      this.#peers ??= new Map()
      this.#peers.set(conversationId, peerId)
    }
    const current = this.#typing?.get(conversationId)
    if (current) clearTimeout(current.timer)
    if (state === 'stop') {
      this.#typing?.delete(conversationId)
      await this.#hub.typing(peerId, conversationId, this.userId, 'stop')
      return
    }
    const timer = setTimeout(() => this.#stopTyping(conversationId), this.#config.TYPING_TTL_MS)
    this.#typing ??= new Map()
    this.#typing.set(conversationId, { peerId, timer })
    // Refreshes within the window are not relayed again: the peer already shows "typing".
    if (!current) await this.#hub.typing(peerId, conversationId, this.userId, 'start')
  }

  #stopTyping(conversationId: string): void {
    const current = this.#typing?.get(conversationId)
    if (!current) return
    clearTimeout(current.timer)
    this.#typing?.delete(conversationId)
    this.#hub
      .typing(current.peerId, conversationId, this.userId, 'stop')
      .catch((error: unknown) => this.log.warn({ err: error }, 'chat socket: typing stop failed'))
  }

  /** Per-connection token bucket; a client that keeps flooding is cut off with 1008. */
  #takeToken(): boolean {
    const now = Date.now()
    this.#tokens = Math.min(this.#config.FRAME_BURST, this.#tokens + ((now - this.#refilledAt) / 1000) * this.#config.FRAME_RATE_PER_S)
    this.#refilledAt = now
    if (this.#tokens >= 1) {
      this.#tokens -= 1
      return true
    }
    if (now - this.#strikesSince > STRIKE_WINDOW_MS) {
      this.#strikes = 0
      this.#strikesSince = now
    }
    this.#strikes += 1
    if (this.#strikes >= this.#config.FLOOD_STRIKES) {
      this.#fail('FLOOD', 'too many frames; closing')
      this.ws.close(1008, 'flood')
      return false
    }
    this.#fail('RATE_LIMITED', 'too many frames; slow down')
    return false
  }

  #takeTypingToken(): boolean {
    const now = Date.now()
    const rate = this.#config.TYPING_RATE_PER_S
    this.#typingTokens = Math.min(rate, this.#typingTokens + ((now - this.#typingRefilledAt) / 1000) * rate)
    this.#typingRefilledAt = now
    if (this.#typingTokens < 1) return false
    this.#typingTokens -= 1
    return true
  }

  /** Socket gone: stop timers, end typing the peer still sees. */
  dispose(): void {
    this.closed = true
    if (this.#gapTimer) clearTimeout(this.#gapTimer)
    for (const conversationId of [...(this.#typing?.keys() ?? [])]) this.#stopTyping(conversationId)
  }
}

function refOf(frame: unknown): string | undefined {
  const f = frame as { clientId?: unknown; messageId?: unknown; conversationId?: unknown }
  const ref = f.clientId ?? f.messageId ?? f.conversationId
  return typeof ref === 'string' ? ref.slice(0, 100) : undefined
}
