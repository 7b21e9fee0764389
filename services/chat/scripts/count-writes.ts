/**
 * Socket writes per message in chat, by peer: on a box where each write is a slow system call
 * this is the cost that matters (services/chat/README.md › Throughput). Starts auth, chat and
 * the gateway, has pairs of sockets chat at a fixed rate, attaches `strace` to chat for
 * `seconds` once the load is warm, then counts write/writev calls per Postgres, Redis, NATS and
 * client (gateway) socket, divided by the messages sent meanwhile. Needs strace and ptrace
 * permission (root, or kernel.yama.ptrace_scope = 0).
 * Usage: node services/chat/scripts/count-writes.ts [rate=100] [sockets=200] [seconds=5]
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import { startStack } from '@sm/testing'
import { runWsLoad } from '../../../packages/bench/src/load/ws-run.ts'
import { registerUsers } from '../../../packages/bench/src/scenarios/users.ts'

const [rate = 100, sockets = 200, seconds = 5] = process.argv.slice(2).map(Number)
const traceFile = `/tmp/chat-writes-${Date.now()}.strace`
const stack = await startStack({
  services: ['auth', 'chat'],
  env: { RATE_LIMIT_MAX: '1000000000', BCRYPT_COST: '4', LOG_LEVEL: 'warn' },
})
const pid = stack.services.chat?.process.pid as number

/** Chat's socket fds → the remote port (from /proc: the fd's inode, then /proc/net/tcp). */
function peerPorts(): Map<string, number> {
  const fdOfInode = new Map<string, string>()
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const inode = /socket:\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1]
    if (inode) fdOfInode.set(inode, fd)
  }
  const ports = new Map<string, number>()
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const columns = line.trim().split(/\s+/)
    const fd = fdOfInode.get(columns[9] ?? '')
    if (fd) ports.set(fd, Number.parseInt(columns[2]?.split(':')[1] ?? '0', 16))
  }
  return ports
}

let tracer: ChildProcess | undefined
try {
  const users = await registerUsers(stack.services.auth?.url as string, sockets)
  const pairs: Array<[number, number]> = []
  for (let i = 0; i + 1 < users.length; i += 2) pairs.push([i, i + 1])
  const url = `${stack.url.replace(/^http/, 'ws')}/chat/ws`
  let ports = new Map<string, number>()
  // Traced from 4 s after connecting (priming and the load's 2 s warm-up done) for `seconds`.
  const job = { mode: 'chat' as const, url, users, pairs, rate, durationS: seconds + 6, graceS: 3, connectConcurrency: 50 }
  await runWsLoad(job, (phase) => {
    if (phase !== 'connected') return
    setTimeout(() => {
      tracer = spawn('strace', ['-f', '-qq', '-e', 'trace=write,writev', '-p', String(pid), '-o', traceFile], { stdio: 'ignore' })
      setTimeout(() => {
        ports = peerPorts()
        tracer?.kill('SIGINT')
      }, seconds * 1000)
    }, 4000)
  })
  const label = (port: number | undefined) =>
    port === 5432
      ? 'Postgres'
      : port === 6379
        ? 'Redis'
        : port === 4222
          ? 'NATS'
          : port === undefined
            ? 'closed since'
            : 'clients (gateway)'
  const counts = new Map<string, number>()
  for (const line of readFileSync(traceFile, 'utf8').split('\n')) {
    const fd = /^\d+\s+writev?\((\d+),/.exec(line)?.[1]
    if (!fd) continue
    const key = label(ports.get(fd))
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  const messages = rate * seconds
  console.log(`${messages} messages at ${rate} msg/s over ${sockets} sockets; write and writev calls by chat:`)
  for (const [peer, n] of [...counts].sort((a, b) => b[1] - a[1]))
    console.log(`  ${peer.padEnd(18)} ${(n / messages).toFixed(2)} per message`)
} finally {
  tracer?.kill()
  rmSync(traceFile, { force: true })
  await stack.stop()
}
