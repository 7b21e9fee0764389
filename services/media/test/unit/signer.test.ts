import t from 'tap'
import { UrlSigner } from '../../src/services/url-signer.ts'

const signer = new UrlSigner('secret', 3600)
const id = '0190a5c4-0000-7000-8000-000000000000'
const noon = Date.parse('2026-11-24T12:00:00Z')

t.test('URLs are stable within a bucket and valid for at least one', async (t) => {
  const a = signer.sign(id, noon + 60_000)
  const b = signer.sign(id, noon + 3500_000)
  t.same(a, b, 'the same URL all hour long: caches can keep it')
  t.equal(a.exp, Date.parse('2026-11-24T14:00:00Z') / 1000)
  t.ok(signer.verify(id, a.exp, a.sig, noon + 3599_000 + 3600_000))
  t.notOk(signer.verify(id, a.exp, a.sig, a.exp * 1000), 'expired at exp')
})

t.test('anything but the exact id, expiry and secret fails', async (t) => {
  const { exp, sig } = signer.sign(id, noon)
  t.ok(signer.verify(id, exp, sig, noon))
  t.notOk(signer.verify('0190a5c4-0000-7000-8000-000000000001', exp, sig, noon))
  t.notOk(signer.verify(id, exp + 1, sig, noon))
  t.notOk(signer.verify(id, exp, `${sig}x`, noon))
  t.notOk(signer.verify(id, exp, `${sig.slice(0, -1)}!`, noon), 'no lenient decoding')
  t.notOk(signer.verify(id, exp, `${sig}=`, noon))
  t.notOk(signer.verify(id, exp, '', noon))
  t.notOk(signer.verify(id, undefined, sig, noon))
  t.notOk(signer.verify(id, exp, undefined, noon))
  t.notOk(new UrlSigner('other', 3600).verify(id, exp, sig, noon))
})
