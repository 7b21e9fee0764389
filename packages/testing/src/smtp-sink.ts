import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

export interface Mail {
  from: string
  to: string[]
  raw: string
}

export interface SmtpSink {
  url: string
  mails: Mail[]
  /** Resolves with the next mail to `to` (or one already received and not yet taken). */
  waitForMail(to: string, timeoutMs?: number): Promise<Mail>
  close(): Promise<void>
}

/** A real SMTP server on a free port that keeps every message it is given. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const mails: Mail[] = []
  const taken = new Set<Mail>()
  const waiters: Array<{ to: string; resolve: (mail: Mail) => void }> = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        const mail: Mail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          raw: Buffer.concat(chunks).toString('utf8'),
        }
        mails.push(mail)
        const index = waiters.findIndex((w) => mail.to.includes(w.to))
        if (index >= 0) {
          const [waiter] = waiters.splice(index, 1)
          taken.add(mail)
          waiter?.resolve(mail)
        }
        callback()
      })
    },
  })
  server.listen(0, '127.0.0.1')
  await once(server.server, 'listening')
  const { port } = server.server.address() as AddressInfo
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    waitForMail(to, timeoutMs = 5_000) {
      const address = to.toLowerCase()
      const ready = mails.find((m) => !taken.has(m) && m.to.includes(address))
      if (ready) {
        taken.add(ready)
        return Promise.resolve(ready)
      }
      return new Promise((resolve, reject) => {
        const waiter = { to: address, resolve }
        waiters.push(waiter)
        setTimeout(() => {
          const index = waiters.indexOf(waiter)
          if (index >= 0) {
            waiters.splice(index, 1)
            reject(new Error(`no mail to ${to} within ${timeoutMs} ms`))
          }
        }, timeoutMs).unref()
      })
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** The 6-digit code in an OTP mail. */
export function otpFrom(mail: Mail): string {
  const match = /\b(\d{6})\b/.exec(mail.raw.replace(/=\r?\n/g, ''))
  if (!match?.[1]) throw new Error('no 6-digit code in the mail')
  return match[1]
}
