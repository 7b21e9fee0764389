import type { FastifyHttpProxyOptions } from '@fastify/http-proxy'
import { WebSocket } from 'ws'

/**
 * The socket class option as @fastify/http-proxy types it. @types/ws ships separate ESM and CJS
 * declarations, so its `typeof WebSocket` and ours differ nominally (not at run time).
 */
type ProxySocketClass = NonNullable<NonNullable<FastifyHttpProxyOptions['wsServerOptions']>['WebSocket']>

/** Close codes that never travel in a close frame: they describe how the other side went away. */
const NO_STATUS_RECEIVED = 1005
const ABNORMAL_CLOSURE = 1006

interface CloseInfo {
  code: number
  reason: Buffer
}

/**
 * Closes `socket` the way its peer closed: same code and reason, or, for the two pseudo codes,
 * without a code (1005) or by dropping the connection (1006). @fastify/http-proxy forwards codes
 * and reasons as they are but "lifts" 1005/1006 to 4005/4006, because those cannot be sent.
 */
export function closeLike(socket: WebSocket, { code, reason }: CloseInfo): void {
  if (code === NO_STATUS_RECEIVED) socket.close()
  else if (code === ABNORMAL_CLOSURE) socket.terminate()
  else socket.close(code, reason)
}

/**
 * The client sockets of the chat relay, from the moment the proxy's WebSocket server creates
 * them (not only once chat has answered), so that a shutdown can say 1001 to every client and a
 * client that closes while chat is still being dialled is mirrored once chat answers.
 */
export class RelayedSockets {
  readonly #open = new Set<WebSocket>()
  readonly #closedWith = new WeakMap<WebSocket, CloseInfo>()

  /** The `WebSocket` class for the proxy's server (a documented `ws` option): each instance registers itself. */
  socketClass(): ProxySocketClass {
    const track = (socket: WebSocket) => this.#track(socket)
    class RelayedClientSocket extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args)
        track(this)
      }
    }
    return RelayedClientSocket as unknown as ProxySocketClass
  }

  #track(socket: WebSocket): void {
    this.#open.add(socket)
    socket.once('close', (code: number, reason: Buffer) => {
      this.#open.delete(socket)
      this.#closedWith.set(socket, { code, reason })
    })
  }

  /**
   * Called once chat accepted (`wsHooks.onConnect`). Our listeners go first (prepend), so for a
   * pseudo code the proxy's own close handler finds the other side already closing and leaves it.
   */
  link(source: WebSocket, target: WebSocket): void {
    const early = this.#closedWith.get(source)
    if (early) {
      // The client left while chat was being dialled. Let the frames it sent before leaving
      // (queued on chat's 'open', which is being emitted right now) go out first.
      setImmediate(() => closeLike(target, early))
      return
    }
    source.prependListener('close', (code: number, reason: Buffer) => mirrorPseudoCode(target, { code, reason }))
    target.prependListener('close', (code: number, reason: Buffer) => mirrorPseudoCode(source, { code, reason }))
  }

  /** 1001 "going away" reaches every client, and through the relay chat too. */
  closeAll(reason: string): void {
    for (const socket of this.#open) {
      if (socket.readyState === WebSocket.OPEN) socket.close(1001, reason)
    }
  }
}

function mirrorPseudoCode(other: WebSocket, info: CloseInfo): void {
  if (info.code === NO_STATUS_RECEIVED || info.code === ABNORMAL_CLOSURE) closeLike(other, info)
}
