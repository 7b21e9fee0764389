import type { Log as Logger } from '@sm/platform'
import nodemailer from 'nodemailer'

export interface Mail {
  to: string
  subject: string
  text: string
}

export interface Mailer {
  send(mail: Mail): Promise<void>
  close(): void
}

/** SMTP when SMTP_URL is set; otherwise the mail is written to the log (local use: the OTP shows there). */
export function createMailer(smtpUrl: string, from: string, log: Logger): Mailer {
  if (!smtpUrl) {
    return {
      async send(mail) {
        log.info({ mail: { to: mail.to, subject: mail.subject, body: mail.text } }, 'mail (SMTP_URL unset, logged instead of sent)')
      },
      close() {},
    }
  }
  const transport = nodemailer.createTransport(smtpUrl)
  return {
    async send(mail) {
      await transport.sendMail({ from, ...mail })
    },
    close() {
      transport.close()
    },
  }
}
