import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '@sm/testing'

export interface Baseline {
  name: string
  url: string
  pid: number
  stop(): Promise<void>
}

async function waitForHttp(url: string, child: ChildProcess, output: string[]): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`baseline exited: ${output.join('')}`)
    try {
      await fetch(url)
      return
    } catch {
      if (Date.now() > deadline) throw new Error(`baseline did not start: ${output.join('')}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

function stopper(child: ChildProcess) {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await exited
  }
}

/** The plain `node:http` keep-alive proxy in front of `upstream`. */
export async function startNodeProxy(upstream: string): Promise<Baseline> {
  const port = await freePort()
  const script = fileURLToPath(new URL('./node-proxy.ts', import.meta.url))
  const output: string[] = []
  const child = spawn(process.execPath, [script, String(port), upstream], { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()))
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(url, child, output)
  return { name: 'node:http proxy', url, pid: child.pid ?? 0, stop: stopper(child) }
}

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path))

/** nginx with one worker and upstream keep-alive, or undefined when nginx is not installed. */
export async function startNginx(upstream: string): Promise<Baseline | undefined> {
  if (!NGINX) return undefined
  const port = await freePort()
  const prefix = join(tmpdir(), `bench-nginx-${port}`)
  mkdirSync(join(prefix, 'logs'), { recursive: true })
  const target = new URL(upstream)
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  upstream service { server ${target.host}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://service;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
  )
  const output: string[] = []
  const child = spawn(NGINX, ['-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()))
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(url, child, output)
  return { name: 'nginx (1 worker)', url, pid: child.pid ?? 0, stop: stopper(child) }
}

/** The bare `ws` echo server. */
export async function startWsEcho(): Promise<Baseline> {
  const port = await freePort()
  const script = fileURLToPath(new URL('./ws-echo.ts', import.meta.url))
  const output: string[] = []
  const child = spawn(process.execPath, [script, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()))
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/health`, child, output)
  return { name: 'ws echo', url, pid: child.pid ?? 0, stop: stopper(child) }
}
