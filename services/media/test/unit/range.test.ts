import t from 'tap'
import { parseRange } from '../../src/services/range.ts'

t.test('single byte ranges', async (t) => {
  const size = 1000
  t.same(parseRange(undefined, size), { type: 'full' })
  t.same(parseRange('bytes=0-0', size), { type: 'partial', start: 0, end: 0 })
  t.same(parseRange('bytes=10-', size), { type: 'partial', start: 10, end: 999 })
  t.same(parseRange('bytes=-100', size), { type: 'partial', start: 900, end: 999 })
  t.same(parseRange('bytes=-5000', size), { type: 'partial', start: 0, end: 999 }, 'a suffix longer than the file is the whole file')
  t.same(parseRange('bytes=990-5000', size), { type: 'partial', start: 990, end: 999 })
  t.same(parseRange(' bytes=1-2 ', size), { type: 'partial', start: 1, end: 2 })
})

t.test('unsatisfiable and ignored ranges', async (t) => {
  t.same(parseRange('bytes=1000-', 1000), { type: 'unsatisfiable' })
  t.same(parseRange('bytes=1000-1001', 1000), { type: 'unsatisfiable' })
  t.same(parseRange('bytes=-0', 1000), { type: 'unsatisfiable' })
  t.same(parseRange('bytes=-1', 0), { type: 'unsatisfiable' })
  for (const ignored of ['bytes=5-1', 'bytes=-', 'bytes=a-b', 'bytes=0-1,3-4', 'lines=0-1', '']) {
    t.same(parseRange(ignored, 1000), { type: 'full' }, ignored)
  }
})
