import { LoginBody, RefreshBody, RegisterBody, Session } from '@sm/contracts'
import type { App } from '@sm/platform'
import type { AccountsService } from '../services/accounts.service.ts'

/** Register, login, refresh and logout: the session life cycle. */
export async function sessionRoutes(app: App, { accounts }: { accounts: AccountsService }) {
  app.post('/auth/register', { schema: { tags: ['auth'], body: RegisterBody, response: { 201: Session } } }, async (request, reply) =>
    reply.status(201).send(await accounts.register(request.body, request.id)),
  )

  app.post('/auth/login', { schema: { tags: ['auth'], body: LoginBody, response: { 200: Session } } }, async (request) =>
    accounts.login(request.body.login, request.body.password),
  )

  app.post('/auth/refresh', { schema: { tags: ['auth'], body: RefreshBody, response: { 200: Session } } }, async (request) =>
    accounts.refresh(request.body.refreshToken),
  )

  app.post('/auth/logout', { schema: { tags: ['auth'], body: RefreshBody } }, async (request, reply) => {
    await accounts.logout(request.body.refreshToken)
    return reply.status(204).send()
  })
}
