import { type Static, Type } from 'typebox'
import { Uuid } from '../common.ts'

export const Username = Type.String({ minLength: 3, maxLength: 30, pattern: '^[A-Za-z0-9_]+$' })
// Email: a pragmatic shape check; deliverability is proven by the OTP mails, not a regex.
export const Email = Type.String({ minLength: 3, maxLength: 254, format: 'email' })
export const Password = Type.String({ minLength: 8, maxLength: 128 })
export const Nickname = Type.String({ minLength: 1, maxLength: 50 })
export const Otp = Type.String({ pattern: '^[0-9]{6}$' })
export const RefreshToken = Type.String({ minLength: 20, maxLength: 200 })

export const AuthUser = Type.Object({
  id: Uuid,
  username: Type.String(),
  email: Type.String(),
  nickname: Type.Union([Type.String(), Type.Null()]),
})
export type AuthUser = Static<typeof AuthUser>

export const Account = Type.Object({
  id: Uuid,
  username: Type.String(),
  email: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
})
export type Account = Static<typeof Account>

const closed = { additionalProperties: false } as const

export const RegisterBody = Type.Object({ username: Username, email: Email, password: Password, nickname: Type.Optional(Nickname) }, closed)
export type RegisterBody = Static<typeof RegisterBody>

export const LoginBody = Type.Object(
  { login: Type.String({ minLength: 1, maxLength: 254 }), password: Type.String({ minLength: 1, maxLength: 128 }) },
  closed,
)
export type LoginBody = Static<typeof LoginBody>

export const RefreshBody = Type.Object({ refreshToken: RefreshToken }, closed)
export type RefreshBody = Static<typeof RefreshBody>

export const Session = Type.Object({
  user: AuthUser,
  accessToken: Type.String(),
  refreshToken: Type.String(),
  expiresIn: Type.Integer(),
})
export type Session = Static<typeof Session>

export const UpdateAccountBody = Type.Object({ username: Type.Optional(Username) }, closed)
export type UpdateAccountBody = Static<typeof UpdateAccountBody>

export const ForgotPasswordBody = Type.Object({ email: Email }, closed)
export type ForgotPasswordBody = Static<typeof ForgotPasswordBody>

export const ResetPasswordBody = Type.Object({ email: Email, otp: Otp, newPassword: Password }, closed)
export type ResetPasswordBody = Static<typeof ResetPasswordBody>

export const ChangePasswordBody = Type.Object({ otp: Otp, newPassword: Password }, closed)
export type ChangePasswordBody = Static<typeof ChangePasswordBody>

export const Jwk = Type.Object(
  {
    kty: Type.String(),
    crv: Type.Optional(Type.String()),
    x: Type.Optional(Type.String()),
    kid: Type.String(),
    alg: Type.String(),
    use: Type.String(),
  },
  { additionalProperties: true },
)
export const JwkSet = Type.Object({ keys: Type.Array(Jwk) })
export type JwkSet = Static<typeof JwkSet>

/** Claims of an access token. `typ` keeps any other token kind from passing for one. */
export const AccessClaims = Type.Object({
  sub: Uuid,
  username: Type.String(),
  typ: Type.Literal('access'),
  jti: Type.String(),
  sid: Type.Optional(Type.String()),
  iss: Type.String(),
  aud: Type.Union([Type.String(), Type.Array(Type.String())]),
  iat: Type.Integer(),
  exp: Type.Integer(),
})
export type AccessClaims = Static<typeof AccessClaims>
