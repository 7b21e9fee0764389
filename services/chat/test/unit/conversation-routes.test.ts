import t from 'tap'
import { ConversationRoutes } from '../../src/services/conversation-routes.ts'

t.test('routes are kept per sender and target kind, least recently used out first', async (t) => {
  const routes = new ConversationRoutes(2)
  routes.set('a', { to: 'b' }, { conversationId: 'ab', recipientId: 'b' })
  routes.set('a', { conversationId: 'ab' }, { conversationId: 'ab', recipientId: 'b' })
  t.same(routes.get('a', { to: 'b' }), { conversationId: 'ab', recipientId: 'b' })
  t.equal(routes.get('b', { to: 'a' }), undefined, 'the other direction is its own entry')
  t.equal(routes.get('a', { conversationId: 'b' }), undefined, 'a peer id is not a conversation id')
  // The `to` entry was just used, so the conversation entry goes when a third arrives.
  routes.set('c', { to: 'd' }, { conversationId: 'cd', recipientId: 'd' })
  t.equal(routes.size, 2)
  t.equal(routes.get('a', { conversationId: 'ab' }), undefined, 'evicted')
  t.ok(routes.get('a', { to: 'b' }), 'kept')
  routes.forget('a', { to: 'b' })
  t.equal(routes.get('a', { to: 'b' }), undefined, 'forgotten')
})
