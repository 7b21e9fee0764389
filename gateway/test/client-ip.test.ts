import t from 'tap'
import { clientIpOf } from '../src/plugins/client-ip.ts'
import { startGateway, startUpstream } from './helper.ts'

const request = (ip: string, forwarded?: string) => ({ ip, headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded } })

t.test('with no trusted proxy the socket peer is the client, whatever it claims', async (t) => {
  t.equal(clientIpOf(request('10.0.0.7', '1.1.1.1'), 0), '10.0.0.7')
})

t.test('behind one load balancer the client is the address it appended', async (t) => {
  t.equal(clientIpOf(request('10.0.0.2', 'spoofed, 203.0.113.9'), 1), '203.0.113.9')
  t.equal(clientIpOf(request('10.0.0.2', '203.0.113.9'), 1), '203.0.113.9')
})

t.test('behind two, the second from the right', async (t) => {
  t.equal(clientIpOf(request('10.0.0.3', 'spoofed, 203.0.113.9, 10.0.0.2'), 2), '203.0.113.9')
})

t.test('a chain shorter than the hops falls back to the furthest known address', async (t) => {
  t.equal(clientIpOf(request('10.0.0.2'), 1), '10.0.0.2')
  t.equal(clientIpOf(request('10.0.0.2', '203.0.113.9'), 5), '203.0.113.9')
})

t.test('end to end: rate limits and services use the address the load balancer saw', async (t) => {
  const social = await startUpstream(t, 'social')
  const { app } = await startGateway(t, { upstreams: { social: social.url }, env: { TRUSTED_PROXY_HOPS: '1', RATE_LIMIT_MAX: '2' } })
  const viaBalancer = (client: string) =>
    app.inject({ method: 'GET', url: '/feed', remoteAddress: '10.0.0.2', headers: { 'x-forwarded-for': `6.6.6.6, ${client}` } })

  t.equal((await viaBalancer('203.0.113.1')).statusCode, 200)
  t.equal(social.received.at(-1)?.headers['x-forwarded-for'], '203.0.113.1')
  t.equal((await viaBalancer('203.0.113.1')).statusCode, 200)
  t.equal((await viaBalancer('203.0.113.1')).statusCode, 429, 'one client is limited')
  t.equal((await viaBalancer('203.0.113.2')).statusCode, 200, 'another client behind the same balancer is not')
})
