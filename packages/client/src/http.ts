import type { ErrorBody } from '@sm/contracts'

/** A non-2xx answer, with the contract's error body. */
export class ApiError extends Error {
  override name = 'ApiError'
  readonly status: number
  readonly code: string
  readonly body: ErrorBody | undefined
  readonly headers: Headers

  constructor(status: number, body: ErrorBody | undefined, headers: Headers) {
    super(body ? `${status} ${body.code}: ${body.message}` : `HTTP ${status}`)
    this.status = status
    this.code = body?.code ?? 'HTTP_ERROR'
    this.body = body
    this.headers = headers
  }
}

export interface HttpOptions {
  baseUrl: string
  /** Sent as `Authorization: Bearer …` when set. */
  accessToken?: () => string | undefined
  headers?: Record<string, string>
}

export interface RequestOptions {
  body?: unknown
  query?: Record<string, string | number | undefined>
  headers?: Record<string, string>
  /** Skip the bearer token even when one is set. */
  anonymous?: boolean
}

/** Thin JSON-over-fetch transport: every non-2xx becomes an ApiError. */
export class Http {
  readonly #opts: HttpOptions

  constructor(opts: HttpOptions) {
    this.#opts = opts
  }

  get baseUrl(): string {
    return this.#opts.baseUrl
  }

  /** The current access token, for transports that authenticate themselves (the chat socket). */
  get accessToken(): string | undefined {
    return this.#opts.accessToken?.()
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(path, this.#opts.baseUrl)
    for (const [key, value] of Object.entries(opts.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value))
    }
    const headers: Record<string, string> = { ...this.#opts.headers, ...opts.headers }
    const token = opts.anonymous ? undefined : this.#opts.accessToken?.()
    if (token) headers.authorization = `Bearer ${token}`
    let body: string | undefined
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(opts.body)
    }
    const response = await fetch(url, { method, headers, body })
    const text = await response.text()
    const parsed = text ? safeJson(text) : undefined
    if (!response.ok) throw new ApiError(response.status, parsed as ErrorBody | undefined, response.headers)
    return parsed as T
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
