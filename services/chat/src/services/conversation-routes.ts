/** Where a sender's message goes: the conversation and the other member. */
export interface ConversationRoute {
  conversationId: string
  recipientId: string
}

/**
 * The conversation each (sender, peer) and (sender, conversation) resolved to, so a send to a
 * known pair skips its lookup round trip. Safe to keep: a pair's conversation and its two
 * members never change. Bounded, least recently used out first (a Map keeps insertion order;
 * a hit moves its entry to the end).
 */
export class ConversationRoutes {
  readonly #routes = new Map<string, ConversationRoute>()
  readonly #max: number

  constructor(max = 50_000) {
    this.#max = max
  }

  get size(): number {
    return this.#routes.size
  }

  get(senderId: string, target: { to?: string; conversationId?: string }): ConversationRoute | undefined {
    const key = keyOf(senderId, target)
    const route = this.#routes.get(key)
    if (route) {
      this.#routes.delete(key)
      this.#routes.set(key, route)
    }
    return route
  }

  set(senderId: string, target: { to?: string; conversationId?: string }, route: ConversationRoute): void {
    const key = keyOf(senderId, target)
    this.#routes.delete(key)
    this.#routes.set(key, route)
    if (this.#routes.size > this.#max) this.#routes.delete(this.#routes.keys().next().value as string)
  }

  forget(senderId: string, target: { to?: string; conversationId?: string }): void {
    this.#routes.delete(keyOf(senderId, target))
  }
}

const keyOf = (senderId: string, target: { to?: string; conversationId?: string }) =>
  target.to !== undefined ? `${senderId}>${target.to}` : `${senderId}@${target.conversationId}`
