import type { Session } from '@sm/contracts'
import { AuthApi } from './auth.ts'
import { ChatApi } from './chat.ts'
import { Http } from './http.ts'
import { MediaApi } from './media.ts'
import { SearchApi } from './search.ts'
import { SocialApi } from './social.ts'

export { AuthApi } from './auth.ts'
export { ChatApi } from './chat.ts'
export { ApiError, Http } from './http.ts'
export { MediaApi } from './media.ts'
export { SearchApi } from './search.ts'
export { SocialApi } from './social.ts'

export interface ClientOptions {
  /** The gateway's URL, e.g. http://127.0.0.1:8080 */
  baseUrl: string
  accessToken?: string
}

/**
 * Typed SDK over the public API (API.md). One client holds one user's tokens: register or
 * login and every later call is authenticated.
 */
export class Client {
  accessToken: string | undefined
  refreshToken: string | undefined
  readonly http: Http
  readonly auth: AuthApi
  readonly social: SocialApi
  readonly media: MediaApi
  readonly search: SearchApi
  readonly chat: ChatApi

  constructor(opts: ClientOptions) {
    this.accessToken = opts.accessToken
    this.http = new Http({ baseUrl: opts.baseUrl, accessToken: () => this.accessToken })
    this.auth = new AuthApi(this.http, (session: Session) => {
      this.accessToken = session.accessToken
      this.refreshToken = session.refreshToken
    })
    this.social = new SocialApi(this.http)
    this.media = new MediaApi(this.http)
    this.search = new SearchApi(this.http)
    this.chat = new ChatApi(this.http)
  }
}

export const createClient = (opts: ClientOptions) => new Client(opts)
