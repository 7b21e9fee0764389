import { Account, UpdateAccountBody } from '@sm/contracts'
import type { App } from '@sm/platform'
import { type AccountsService, toAccount } from '../services/accounts.service.ts'

const secured = [{ bearer: [] }]

export async function accountRoutes(app: App, { accounts }: { accounts: AccountsService }) {
  app.get(
    '/auth/me',
    { onRequest: app.authenticate, schema: { tags: ['auth'], security: secured, response: { 200: Account } } },
    async (request) => toAccount(await accounts.account(request.user.id)),
  )

  app.patch(
    '/auth/me',
    { onRequest: app.authenticate, schema: { tags: ['auth'], security: secured, body: UpdateAccountBody, response: { 200: Account } } },
    async (request) => {
      const { username } = request.body
      const user = username ? await accounts.changeUsername(request.user.id, username, request.id) : await accounts.account(request.user.id)
      return toAccount(user)
    },
  )
}
