import { clientFrames, events } from '@sm/contracts'
import t from 'tap'
import { Type } from 'typebox'
import { Value } from 'typebox/value'
import { firstError, validatorFor } from '../src/validators.ts'

t.test('one compiled validator per schema, made on first use', async (t) => {
  const schema = Type.Object({ a: Type.Integer() })
  t.equal(validatorFor(schema), validatorFor(schema), 'the same validator the second time')
  t.not(validatorFor(schema), validatorFor(Type.Object({ a: Type.Integer() })), 'an equal but distinct schema gets its own')
})

t.test('it agrees with Value.Check on the schemas the hot paths use', async (t) => {
  const id = '0194c3a2-7f1e-7c3a-9b1d-2f4e5a6b7c8d'
  const cases: Array<[string, Parameters<typeof validatorFor>[0], unknown, boolean]> = [
    ['a chat frame', clientFrames['message.send'], { type: 'message.send', clientId: id, to: id, text: 'hi' }, true],
    ['a chat frame without its clientId', clientFrames['message.send'], { type: 'message.send', to: id, text: 'hi' }, false],
    ['a chat frame with a number for text', clientFrames['message.send'], { type: 'message.send', clientId: id, to: id, text: 5 }, false],
    [
      'a reaction of 500 characters',
      clientFrames['message.react'],
      { type: 'message.react', messageId: id, emoji: 'x'.repeat(500) },
      false,
    ],
    ['null for a frame', clientFrames.typing, null, false],
    [
      'an event payload',
      events['auth.user.registered'].schema,
      { userId: id, username: 'al', nickname: null, createdAt: new Date().toISOString() },
      true,
    ],
    ['an event payload missing a field', events['auth.user.registered'].schema, { userId: id }, false],
    [
      'a uuid format broken',
      events['auth.user.registered'].schema,
      { userId: 'nope', username: 'al', nickname: null, createdAt: new Date().toISOString() },
      false,
    ],
    [
      'a date-time format broken',
      events['auth.user.registered'].schema,
      { userId: id, username: 'al', nickname: null, createdAt: 'yesterday' },
      false,
    ],
  ]
  for (const [name, schema, value, valid] of cases) {
    t.equal(Value.Check(schema, value), valid, `${name}: Value.Check says ${valid}`)
    t.equal(validatorFor(schema).Check(value), valid, `${name}: so does the compiled validator`)
  }
})

t.test('firstError names the path and the problem', async (t) => {
  const schema = Type.Object({ name: Type.String({ maxLength: 3 }) })
  t.match(firstError(schema, { name: 'toolong' }), /^\/name .+3/)
  t.equal(firstError(schema, { name: 'ok' }), 'invalid value', 'a valid value has no error to name')
})
