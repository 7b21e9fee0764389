import { type Static, Type } from 'typebox'
import { MediaRef, UserSummary } from '../common.ts'
import { PostSnapshot } from '../events/social.ts'

// API.md › Chat (REST and WebSocket): request bodies, replies and every WS frame.

const Id = Type.String({ format: 'uuid' })
const Time = Type.String({ format: 'date-time' })
const Nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()])

// Copies without `$id`: a schema may embed an `$id`'d schema only once, and a message holds
// several media refs (its own, in its post, in its reply and quote snapshots).
const ChatMediaRef = Type.Object({ ...MediaRef.properties })
const ChatPostSnapshot = Type.Object({ ...PostSnapshot.properties, media: Type.Union([ChatMediaRef, Type.Null()]) })

/** Largest text of a message (characters). */
export const CHAT_TEXT_MAX = 4000
/** Largest WebSocket frame a client may send (bytes). */
export const CHAT_FRAME_MAX_BYTES = 64 * 1024

export const MessageKind = Type.Union([
  Type.Literal('text'),
  Type.Literal('image'),
  Type.Literal('video'),
  Type.Literal('audio'),
  Type.Literal('document'),
  Type.Literal('post'),
])
export type MessageKind = Static<typeof MessageKind>

/**
 * What a reply or a quote carries of the original, as it was when replying. `deleted` and
 * `edited` follow the original: a deleted original's snapshot loses its text, media and post.
 */
export const MessageSnapshot = Type.Object({
  id: Id,
  seq: Type.Integer({ minimum: 1 }),
  senderId: Id,
  kind: MessageKind,
  text: Nullable(Type.String()),
  media: Nullable(ChatMediaRef),
  post: Nullable(ChatPostSnapshot),
  createdAt: Time,
  edited: Type.Boolean(),
  deleted: Type.Boolean(),
})
export type MessageSnapshot = Static<typeof MessageSnapshot>

export const Reaction = Type.Object({ emoji: Type.String(), userIds: Type.Array(Id) })

export const ChatMessage = Type.Object({
  id: Id,
  conversationId: Id,
  seq: Type.Integer({ minimum: 1 }),
  senderId: Id,
  clientId: Type.String(),
  kind: MessageKind,
  text: Nullable(Type.String()),
  media: Nullable(ChatMediaRef),
  post: Nullable(ChatPostSnapshot),
  replyTo: Nullable(MessageSnapshot),
  quote: Nullable(MessageSnapshot),
  reactions: Type.Array(Reaction),
  createdAt: Time,
  editedAt: Nullable(Time),
  deleted: Type.Boolean(),
})
export type ChatMessage = Static<typeof ChatMessage>

export const MessageReceipts = Type.Object({ deliveredAt: Nullable(Time), readAt: Nullable(Time) })
export const MessageEdit = Type.Object({ text: Type.String(), editedAt: Time })

/** GET /chat/messages/:id: the message, the recipient's receipts and the edit history (oldest first). */
export const ChatMessageDetail = Type.Object({ ...ChatMessage.properties, receipts: MessageReceipts, edits: Type.Array(MessageEdit) })
export type ChatMessageDetail = Static<typeof ChatMessageDetail>

const ClientId = Type.String({ minLength: 1, maxLength: 100 })
const MessageText = Type.String({ maxLength: CHAT_TEXT_MAX })

/** Body of POST /chat/messages and of the `message.send` frame: `to` (user id) or `conversationId`. */
export const SendMessageBody = Type.Object(
  {
    clientId: ClientId,
    to: Type.Optional(Id),
    conversationId: Type.Optional(Id),
    text: Type.Optional(MessageText),
    mediaId: Type.Optional(Id),
    replyToId: Type.Optional(Id),
    quoteId: Type.Optional(Id),
  },
  { additionalProperties: false },
)
export type SendMessageBody = Static<typeof SendMessageBody>

export const EditMessageBody = Type.Object({ text: MessageText }, { additionalProperties: false })
export const DeleteScope = Type.Union([Type.Literal('me'), Type.Literal('everyone')])
export type DeleteScope = Static<typeof DeleteScope>
export const DeleteMessageQuery = Type.Object({ scope: DeleteScope })
/** One emoji: a single grapheme, at most 32 UTF-16 units (checked by the service too). */
export const Emoji = Type.String({ minLength: 1, maxLength: 32 })
export const ReactionParams = Type.Object({ id: Id, emoji: Emoji })
export const ReadBody = Type.Object({ seq: Type.Integer({ minimum: 0 }) }, { additionalProperties: false })

export const ReactionsReply = Type.Object({ messageId: Id, reactions: Type.Array(Reaction) })
export const ReadReply = Type.Object({ conversationId: Id, seq: Type.Integer({ minimum: 0 }), at: Time })

export const ConversationSummary = Type.Object({
  id: Id,
  peer: UserSummary,
  lastMessage: Nullable(ChatMessage),
  unread: Type.Integer({ minimum: 0 }),
  peerOnline: Type.Boolean(),
  peerLastSeenAt: Nullable(Time),
  /** My read cursor and the peer's, by seq. */
  readSeq: Type.Integer({ minimum: 0 }),
  peerReadSeq: Type.Integer({ minimum: 0 }),
  peerDeliveredSeq: Type.Integer({ minimum: 0 }),
  lastActivityAt: Time,
})
export type ConversationSummary = Static<typeof ConversationSummary>

export const ConversationPage = Type.Object({ items: Type.Array(ConversationSummary), nextCursor: Nullable(Type.String()) })
export type ConversationPage = Static<typeof ConversationPage>

/** `before`/`after` are seq bounds (exclusive). Without either: the newest page. */
export const HistoryQuery = Type.Object({
  before: Type.Optional(Type.Integer({ minimum: 1 })),
  after: Type.Optional(Type.Integer({ minimum: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
})
/** Messages in seq order; `nextCursor` is the next `before` (older page) or, when paging with `after`, the next `after`. */
export const MessagePage = Type.Object({ items: Type.Array(ChatMessage), nextCursor: Nullable(Type.String()) })
export type MessagePage = Static<typeof MessagePage>

export const PresenceQuery = Type.Object({ userIds: Type.String({ minLength: 1, maxLength: 3800 }) })
export const PresenceItem = Type.Object({ userId: Id, online: Type.Boolean(), lastSeenAt: Nullable(Time) })
export type PresenceItem = Static<typeof PresenceItem>
export const PresenceReply = Type.Object({ items: Type.Array(PresenceItem) })

export const TicketReply = Type.Object({ ticket: Type.String(), expiresIn: Type.Integer() })

export const SyncQuery = Type.Object({
  since: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 500 })),
})

// ── Server → client frames. Frames that come from the event log carry its `cursor`. ──

const Cursor = { cursor: Type.Optional(Type.String()) }

export const MessageNewFrame = Type.Object({ type: Type.Literal('message.new'), message: ChatMessage, ...Cursor })
export const MessageAckFrame = Type.Object({ type: Type.Literal('message.ack'), clientId: Type.String(), message: ChatMessage })
export const MessageEditedFrame = Type.Object({ type: Type.Literal('message.edited'), message: ChatMessage, ...Cursor })
export const MessageDeletedFrame = Type.Object({
  type: Type.Literal('message.deleted'),
  conversationId: Id,
  messageId: Id,
  scope: DeleteScope,
  ...Cursor,
})
export const ReactionFrame = Type.Object({
  type: Type.Literal('reaction'),
  conversationId: Id,
  messageId: Id,
  userId: Id,
  emoji: Type.String(),
  action: Type.Union([Type.Literal('add'), Type.Literal('remove')]),
  ...Cursor,
})
export const TypingFrame = Type.Object({
  type: Type.Literal('typing'),
  conversationId: Id,
  userId: Id,
  state: Type.Union([Type.Literal('start'), Type.Literal('stop')]),
})
export const DeliveredFrame = Type.Object({
  type: Type.Literal('delivered'),
  conversationId: Id,
  userId: Id,
  seq: Type.Integer(),
  at: Time,
  ...Cursor,
})
export const ReadFrame = Type.Object({
  type: Type.Literal('read'),
  conversationId: Id,
  userId: Id,
  seq: Type.Integer(),
  at: Time,
  ...Cursor,
})
/** My other devices learn that I cleared a conversation up to `seq`. */
export const ClearedFrame = Type.Object({ type: Type.Literal('conversation.cleared'), conversationId: Id, seq: Type.Integer(), ...Cursor })
export const PresenceFrame = Type.Object({ type: Type.Literal('presence'), userId: Id, online: Type.Boolean(), lastSeenAt: Nullable(Time) })
export const PongFrame = Type.Object({ type: Type.Literal('pong') })
export const ErrorFrame = Type.Object({
  type: Type.Literal('error'),
  code: Type.String(),
  message: Type.String(),
  ref: Type.Optional(Type.String()),
})

/** An entry of the per-user event log, as `sync` returns it (the frame it was sent as). Delivered receipts are live only. */
export const ChatEvent = Type.Union([MessageNewFrame, MessageEditedFrame, MessageDeletedFrame, ReactionFrame, ReadFrame, ClearedFrame])
export type ChatEvent = Static<typeof ChatEvent>

export const SyncReply = Type.Object({ events: Type.Array(ChatEvent), cursor: Type.String(), hasMore: Type.Boolean() })
export type SyncReply = Static<typeof SyncReply>
export const SyncFrame = Type.Object({
  type: Type.Literal('sync'),
  events: Type.Array(ChatEvent),
  cursor: Type.String(),
  hasMore: Type.Boolean(),
})

export type ServerFrame =
  | Static<typeof MessageNewFrame>
  | Static<typeof MessageAckFrame>
  | Static<typeof MessageEditedFrame>
  | Static<typeof MessageDeletedFrame>
  | Static<typeof ReactionFrame>
  | Static<typeof TypingFrame>
  | Static<typeof DeliveredFrame>
  | Static<typeof ReadFrame>
  | Static<typeof ClearedFrame>
  | Static<typeof PresenceFrame>
  | Static<typeof PongFrame>
  | Static<typeof ErrorFrame>
  | Static<typeof SyncFrame>

// ── Client → server frames ──

export const clientFrames = {
  'message.send': Type.Object({ type: Type.Literal('message.send'), ...SendMessageBody.properties }, { additionalProperties: false }),
  'message.edit': Type.Object({ type: Type.Literal('message.edit'), messageId: Id, text: MessageText }, { additionalProperties: false }),
  'message.delete': Type.Object(
    { type: Type.Literal('message.delete'), messageId: Id, scope: DeleteScope },
    { additionalProperties: false },
  ),
  'message.react': Type.Object({ type: Type.Literal('message.react'), messageId: Id, emoji: Emoji }, { additionalProperties: false }),
  'message.unreact': Type.Object({ type: Type.Literal('message.unreact'), messageId: Id, emoji: Emoji }, { additionalProperties: false }),
  typing: Type.Object(
    { type: Type.Literal('typing'), conversationId: Id, state: Type.Union([Type.Literal('start'), Type.Literal('stop')]) },
    { additionalProperties: false },
  ),
  read: Type.Object({ type: Type.Literal('read'), conversationId: Id, seq: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
  sync: Type.Object({ type: Type.Literal('sync'), since: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }),
  ping: Type.Object({ type: Type.Literal('ping') }, { additionalProperties: false }),
} as const

export type ClientFrameType = keyof typeof clientFrames
export type ClientFrame = { [K in ClientFrameType]: Static<(typeof clientFrames)[K]> }[ClientFrameType]
