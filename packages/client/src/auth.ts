import type { Account, JwkSet, LoginBody, RegisterBody, Session } from '@sm/contracts'
import type { Http } from './http.ts'

/** API.md › Auth. Session-returning calls also update the client's stored tokens. */
export class AuthApi {
  readonly #http: Http
  readonly #onSession: (session: Session) => void

  constructor(http: Http, onSession: (session: Session) => void) {
    this.#http = http
    this.#onSession = onSession
  }

  #keep = (session: Session): Session => {
    this.#onSession(session)
    return session
  }

  register(body: RegisterBody): Promise<Session> {
    return this.#http.request<Session>('POST', '/auth/register', { body, anonymous: true }).then(this.#keep)
  }

  login(body: LoginBody): Promise<Session> {
    return this.#http.request<Session>('POST', '/auth/login', { body, anonymous: true }).then(this.#keep)
  }

  refresh(refreshToken: string): Promise<Session> {
    return this.#http.request<Session>('POST', '/auth/refresh', { body: { refreshToken }, anonymous: true }).then(this.#keep)
  }

  logout(refreshToken: string): Promise<void> {
    return this.#http.request('POST', '/auth/logout', { body: { refreshToken }, anonymous: true })
  }

  me(): Promise<Account> {
    return this.#http.request('GET', '/auth/me')
  }

  updateMe(body: { username?: string }): Promise<Account> {
    return this.#http.request('PATCH', '/auth/me', { body })
  }

  forgotPassword(email: string): Promise<void> {
    return this.#http.request('POST', '/auth/password/forgot', { body: { email }, anonymous: true })
  }

  resetPassword(body: { email: string; otp: string; newPassword: string }): Promise<void> {
    return this.#http.request('POST', '/auth/password/reset', { body, anonymous: true })
  }

  requestPasswordChange(): Promise<void> {
    return this.#http.request('POST', '/auth/password/change/request')
  }

  changePassword(body: { otp: string; newPassword: string }): Promise<void> {
    return this.#http.request('POST', '/auth/password/change', { body })
  }

  jwks(): Promise<JwkSet> {
    return this.#http.request('GET', '/auth/.well-known/jwks.json', { anonymous: true })
  }
}
