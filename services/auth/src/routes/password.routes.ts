import { ChangePasswordBody, ForgotPasswordBody, ResetPasswordBody } from '@sm/contracts'
import type { App } from '@sm/platform'
import type { PasswordFlows } from '../services/passwords.service.ts'

const secured = [{ bearer: [] }]

export async function passwordRoutes(app: App, { passwords }: { passwords: PasswordFlows }) {
  app.post('/auth/password/forgot', { schema: { tags: ['password'], body: ForgotPasswordBody } }, async (request, reply) => {
    await passwords.forgot(request.body.email)
    return reply.status(202).send()
  })

  app.post('/auth/password/reset', { schema: { tags: ['password'], body: ResetPasswordBody } }, async (request, reply) => {
    await passwords.reset(request.body.email, request.body.otp, request.body.newPassword)
    return reply.status(204).send()
  })

  app.post(
    '/auth/password/change/request',
    { onRequest: app.authenticate, schema: { tags: ['password'], security: secured } },
    async (request, reply) => {
      await passwords.requestChange(request.user.id)
      return reply.status(202).send()
    },
  )

  app.post(
    '/auth/password/change',
    { onRequest: app.authenticate, schema: { tags: ['password'], security: secured, body: ChangePasswordBody } },
    async (request, reply) => {
      await passwords.change(request.user.id, request.user.sessionId, request.body.otp, request.body.newPassword)
      return reply.status(204).send()
    },
  )
}
