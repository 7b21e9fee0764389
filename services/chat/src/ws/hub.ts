import type { ChatMessage, ServerFrame } from '@sm/contracts'
import { type Log, type OutboxRelay, outboxRow } from '@sm/platform'
import type { Kysely } from 'kysely'
import type { ChatConfig } from '../config.ts'
import type { ChatDatabase } from '../db/database.ts'
import { insertEventListingPeers } from '../repositories/conversations.repository.ts'
import { currentEventSeq } from '../repositories/events.repository.ts'
import type { ChatService } from '../services/chat.service.ts'
import { type Delivery, type LiveEnvelope, userSubject } from '../services/delivery.ts'
import type { MediaClient } from '../services/media.client.ts'
import type { PresenceChange, PresenceStore } from '../services/presence.service.ts'
import { withFreshMedia } from '../services/views.ts'
import type { Connection } from './connection.ts'

type Subscription = ReturnType<import('@sm/platform').Bus['nc']['subscribe']>

export interface HubDeps {
  db: Kysely<ChatDatabase>
  bus: import('@sm/platform').Bus
  relay: OutboxRelay
  chat: ChatService
  delivery: Delivery
  presence: PresenceStore
  media: MediaClient
  config: ChatConfig
  log: Log
}

/** Sockets pinged (and their presence refreshed) per turn of the event loop. */
const BEAT_SLICE = 200

/**
 * Ticks per heartbeat interval. Each socket is pinged on one of them, its slot (dealt in turn
 * as sockets attach), so an interval's pings go out as a steady trickle: all at once, 2,000 sockets' pings,
 * their pongs through the gateway and the presence refresh made a burst every 15 s that
 * delayed the messages around it (the chat benchmark's p99 was 4.5 ms in a run without a beat
 * and 18–22 ms in runs with one).
 */
const BEAT_TICKS = 15

/**
 * This instance's sockets, by user. It subscribes to a user's live subject while it holds at
 * least one of their sockets, pings sockets and beats their presence, and sweeps connections
 * whose instance stopped beating (crashed), so those users go offline too.
 */
export class Hub {
  readonly chat: ChatService
  readonly delivery: Delivery
  readonly #d: HubDeps
  /**
   * `live`: the subscription has reached the NATS server, so published frames arrive here.
   * `connections` is replaced, never changed in place, so a delivery loop over it is unaffected
   * by a socket closing meanwhile; an exact-size array of one costs ~60 bytes, a Set ~200.
   */
  readonly #users = new Map<string, { connections: readonly Connection[]; subscription: Subscription; live: boolean }>()
  /** Every open socket from its first moment (also while it is still catching up). */
  readonly #all = new Set<Connection>()
  #timer: NodeJS.Timeout | undefined
  #stopped = false
  /**
   * A tick's pings yield between slices: the next tick waits its turn rather than overlap them
   * (its slot is pinged a tick late, never skipped). Only the pings: a slow Redis must not stop them.
   */
  #pinging = false
  /** The slot the next tick pings. */
  #nextSlot = 0
  /** Sockets attached so far: the next one's slot is this modulo BEAT_TICKS. */
  #dealt = 0

  constructor(deps: HubDeps) {
    this.#d = deps
    this.chat = deps.chat
    this.delivery = deps.delivery
    this.delivery.isLiveHere = (userId) => this.#users.get(userId)?.live === true
    this.delivery.deliverHere = (userId, envelope) => this.#offer(userId, envelope)
  }

  start(): void {
    // The beat runs in setImmediate, after the event loop's I/O phase: when the process stalls
    // (GC, a loaded box) an overdue timer fires before the pongs that arrived meanwhile are
    // read, and would take live sockets for zombies.
    const beat = () => {
      this.#beat().catch((error: unknown) => this.#d.log.error({ err: error }, 'chat heartbeat failed'))
    }
    const tickMs = Math.max(1, Math.floor(this.#d.config.HEARTBEAT_INTERVAL_MS / BEAT_TICKS))
    this.#timer = setInterval(() => setImmediate(beat), tickMs)
    this.#timer.unref()
  }

  /** Registers the socket: live subscription first, then presence, so nothing falls in between. */
  async attach(connection: Connection, since: string | undefined): Promise<void> {
    const { bus } = this.#d
    if (this.#stopped) {
      connection.ws.close(1001, 'server shutting down')
      return
    }
    this.#all.add(connection)
    // The user's position before the live subscription exists: a socket without a cursor (or
    // with one past the log's end) starts here, and everything after it is read or arrives live.
    const floor = await this.currentSeq(connection.userId)
    let entry = this.#users.get(connection.userId)
    if (!entry) {
      entry = { connections: [], subscription: this.#subscribe(connection.userId), live: false }
      this.#users.set(connection.userId, entry)
      await bus.nc.flush()
      entry.live = true
    }
    connection.beatSlot = this.#dealt++ % BEAT_TICKS
    entry.connections = [...entry.connections, connection]
    if (await this.#d.presence.connect(connection.userId, connection.id)) {
      await this.announce({ userId: connection.userId, online: true, lastSeenAt: new Date().toISOString() })
    }
    await connection.start(since, floor)
    // Closed while we were catching up: its close handler found nothing to detach yet.
    if (connection.ws.readyState !== connection.ws.OPEN) await this.detach(connection)
  }

  /**
   * The user's live subject: frames published by the other instances (this one's own come
   * in-process, see Delivery.send). Its callback holds the user id only, not the connection
   * that opened it.
   */
  #subscribe(userId: string): Subscription {
    const { bus } = this.#d
    return bus.nc.subscribe(userSubject(bus.namespace, userId), {
      callback: (error, msg) => {
        if (error) return
        let envelope: LiveEnvelope
        try {
          envelope = msg.json<LiveEnvelope>()
        } catch (err) {
          this.#d.log.warn({ err }, 'chat: malformed live frame dropped')
          return
        }
        this.#offer(userId, envelope)
      },
    })
  }

  /**
   * Hands a frame to each of the user's sockets here. A socket that throws is logged and
   * skipped: called in-process from a sender's request, it must not fail the send (already
   * committed) nor keep the frame from the user's other sockets.
   */
  #offer(userId: string, envelope: LiveEnvelope): void {
    for (const conn of this.#users.get(userId)?.connections ?? []) {
      try {
        conn.offer(envelope)
      } catch (err) {
        this.#d.log.error({ err }, 'chat: a socket failed to take a live frame')
      }
    }
  }

  async detach(connection: Connection): Promise<void> {
    this.#all.delete(connection)
    const entry = this.#users.get(connection.userId)
    if (!entry?.connections.includes(connection)) return
    entry.connections = entry.connections.filter((conn) => conn !== connection)
    connection.dispose()
    if (entry.connections.length === 0) {
      entry.subscription.unsubscribe()
      this.#users.delete(connection.userId)
    }
    const lastSeenAt = await this.#d.presence.disconnect(connection.userId, connection.id)
    if (lastSeenAt) await this.announce({ userId: connection.userId, online: false, lastSeenAt })
  }

  currentSeq(userId: string): Promise<number> {
    return currentEventSeq(this.#d.db, userId)
  }

  async freshFrames(userId: string, entries: Array<{ seq: number; frame: ServerFrame }>) {
    const frames = await withFreshMedia(
      this.#d.media,
      userId,
      entries.map((e) => e.frame as ServerFrame & { message?: ChatMessage }),
    )
    return entries.map((e, i) => ({ seq: e.seq, frame: frames[i] as ServerFrame }))
  }

  async typing(peerId: string, conversationId: string, userId: string, state: 'start' | 'stop'): Promise<void> {
    await this.delivery.send(peerId, { frame: { type: 'typing', conversationId, userId, state } })
  }

  /** A presence transition: the `chat.presence.changed` event, and frames to the user's peers. */
  async announce(change: PresenceChange): Promise<void> {
    const { db, relay } = this.#d
    const peers = await insertEventListingPeers(db, outboxRow('chat', 'chat.presence.changed', change), change.userId)
    relay.kick()
    const frame = { type: 'presence' as const, ...change }
    await Promise.all(peers.map((peerId) => this.delivery.send(peerId, { frame })))
  }

  /**
   * One tick: pings the sockets of the next slot and refreshes their presence, in slices of
   * BEAT_SLICE with the event loop free in between (a ping is a system call each); once per
   * interval, sweeps the connections of crashed instances.
   */
  async #beat(): Promise<void> {
    if (this.#stopped || this.#pinging) return
    this.#pinging = true
    const slot = this.#nextSlot
    this.#nextSlot = (slot + 1) % BEAT_TICKS
    const { presence, config, log } = this.#d
    // Handled at once: the beat awaits these only after its last slice, and a rejection left
    // unhandled across the slices' turns would end the process.
    const refreshFailed = (error: unknown) => log.error({ err: error }, 'chat heartbeat: presence refresh failed')
    const registered: Array<Promise<void>> = []
    let slice: Connection[] = []
    try {
      for (const entry of this.#users.values()) {
        for (const conn of entry.connections) {
          if (conn.beatSlot !== slot) continue
          // Two intervals without a pong or a frame: a zombie (its client vanished without closing).
          if (!conn.alive) {
            conn.ws.terminate()
            continue
          }
          conn.alive = false
          conn.ws.ping()
          slice.push(conn)
          if (slice.length === BEAT_SLICE) {
            registered.push(this.#refreshPresence(slice).catch(refreshFailed))
            slice = []
            await new Promise((resolve) => setImmediate(resolve))
          }
        }
      }
      registered.push(this.#refreshPresence(slice).catch(refreshFailed))
    } finally {
      this.#pinging = false
    }
    await Promise.all(registered)
    if (slot !== 0) return
    for (const change of await presence.sweep(config.HEARTBEAT_TIMEOUT_MS)) await this.announce(change)
  }

  /**
   * One round trip for a slice's beats. A connection swept meanwhile (this instance stalled past
   * the timeout) registers again, unless it closed while the beat was in flight (that would
   * resurrect a gone connection).
   */
  async #refreshPresence(connections: Connection[]): Promise<void> {
    const { presence } = this.#d
    const alive = await presence.heartbeats(connections.map((conn) => ({ userId: conn.userId, connId: conn.id })))
    await Promise.all(
      connections.map(async (conn, i) => {
        if (!alive[i] && !conn.closed && this.#all.has(conn) && (await presence.connect(conn.userId, conn.id))) {
          await this.announce({ userId: conn.userId, online: true, lastSeenAt: new Date().toISOString() })
        }
      }),
    )
  }

  /** Shutdown: every socket hears 1001 (reconnect elsewhere) and its user's presence is settled. */
  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer) clearInterval(this.#timer)
    const connections = [...this.#all]
    for (const conn of connections) conn.ws.close(1001, 'server shutting down')
    await Promise.all(connections.map((conn) => this.detach(conn).catch(() => undefined)))
  }
}
