import t from 'tap'
import { downloadName, HEAD_BYTES, sniffHead } from '../../src/services/sniff.ts'
import * as fixtures from '../fixtures.ts'

const asText = { mime: 'text/plain', kind: 'document' }

t.test('plain text is recognised from a head cut anywhere', async (t) => {
  // "é" is two bytes: put one across the head boundary.
  const long = Buffer.from(`${'a'.repeat(HEAD_BYTES - 1)}é and more`)
  t.same(await sniffHead(long.subarray(0, HEAD_BYTES), false), asText, 'a character cut by the head is fine mid-file')
  t.match(await sniffHead(long.subarray(0, HEAD_BYTES), true), { refused: /./ }, '…but not at the very end of a file')
  t.same(await sniffHead(Buffer.from('\uFEFFwith a byte order mark\r\n'), true), asText)
})

t.test('binary, UTF-16, markup and scripts are not text', async (t) => {
  const refusals = {
    'UTF-16': Buffer.from('\uFEFFhello', 'utf16le'),
    'invalid UTF-8': Buffer.from([0x68, 0x69, 0xc3, 0x28]),
    'control bytes': Buffer.from('hello\u0007bell'),
    'html in the middle': Buffer.from('notes\n\n<iframe src="https://evil.example"></iframe>'),
    'uppercase doctype': Buffer.from('<!DOCTYPE HTML><p>hi'),
    'spaced tag': Buffer.from('<  script>alert(1)</script>'),
    shebang: fixtures.shellScript(),
    empty: Buffer.alloc(0),
  }
  for (const [name, bytes] of Object.entries(refusals)) t.match(await sniffHead(bytes, true), { refused: /./ }, name)
})

t.test('documents download under their id and extension', async (t) => {
  t.equal(downloadName('x', 'application/pdf'), 'x.pdf')
  t.equal(downloadName('x', 'text/plain'), 'x.txt')
  t.equal(downloadName('x', 'application/x-unknown'), 'x')
})
