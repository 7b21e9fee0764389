import type { ErrorBody, MediaPurpose, MediaRef } from '@sm/contracts'
import { ApiError, type Http } from './http.ts'

/** What can be uploaded: bytes in memory, a Blob/File, or a stream (sent without buffering). */
export type UploadBody = Blob | Uint8Array | ReadableStream<Uint8Array>

export interface UploadOptions {
  /** The file name sent in the form (the server ignores it for storage and typing). */
  filename?: string
  /** The declared type (the server sniffs the bytes and ignores this). */
  contentType?: string
}

/** API.md › Media. Uploads are multipart; downloads are raw `Response`s so they can stream. */
export class MediaApi {
  protected readonly http: Http

  constructor(http: Http) {
    this.http = http
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    const token = this.http.accessToken
    return token ? { ...extra, authorization: `Bearer ${token}` } : extra
  }

  /** POST /media: `purpose` goes first in the form (and in the query), so the server knows it before the file. */
  async upload(purpose: MediaPurpose, file: UploadBody, opts: UploadOptions = {}): Promise<MediaRef> {
    const url = new URL('/media', this.http.baseUrl)
    url.searchParams.set('purpose', purpose)
    const filename = (opts.filename ?? 'upload').replace(/["\r\n]/g, '_')
    const contentType = opts.contentType ?? 'application/octet-stream'
    let response: Response
    if (file instanceof ReadableStream) {
      // FormData would read a stream into memory: frame the multipart body around the stream instead.
      const boundary = `----sm-client-${crypto.randomUUID()}`
      const encoder = new TextEncoder()
      const head = encoder.encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n${purpose}\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${contentType}\r\n\r\n`,
      )
      const tail = encoder.encode(`\r\n--${boundary}--\r\n`)
      const body = framed(head, file, tail)
      response = await fetch(url, {
        method: 'POST',
        headers: this.#headers({ 'content-type': `multipart/form-data; boundary=${boundary}` }),
        body,
        duplex: 'half',
      } as RequestInit)
    } else {
      const form = new FormData()
      form.append('purpose', purpose)
      form.append('file', file instanceof Blob ? file : new Blob([file as Uint8Array<ArrayBuffer>], { type: contentType }), filename)
      response = await fetch(url, { method: 'POST', headers: this.#headers(), body: form })
    }
    return parse<MediaRef>(response)
  }

  /** GET /media/:id: the MediaRef (owner, or a reader of chat media). */
  get(id: string): Promise<MediaRef> {
    return this.http.request('GET', `/media/${encodeURIComponent(id)}`)
  }

  /** DELETE /media/:id: owner only. */
  delete(id: string): Promise<void> {
    return this.http.request('DELETE', `/media/${encodeURIComponent(id)}`)
  }

  /**
   * GET a MediaRef.url (or any media path): the raw response, body unread, so large files
   * stream. Non-2xx answers throw ApiError. `anonymous` leaves the token off (signed URLs).
   */
  async download(
    urlOrRef: string | MediaRef,
    opts: { range?: string; anonymous?: boolean; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const path = typeof urlOrRef === 'string' ? urlOrRef : urlOrRef.url
    const headers: Record<string, string> = { ...(opts.anonymous ? {} : this.#headers()), ...opts.headers }
    if (opts.range) headers.range = opts.range
    const response = await fetch(new URL(path, this.http.baseUrl), { headers })
    if (!response.ok) await parse(response)
    return response
  }
}

function framed(head: Uint8Array, file: ReadableStream<Uint8Array>, tail: Uint8Array): ReadableStream<Uint8Array> {
  const reader = file.getReader()
  let state: 'head' | 'file' | 'done' = 'head'
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (state === 'head') {
        state = 'file'
        controller.enqueue(head)
        return
      }
      if (state === 'done') return
      const { done, value } = await reader.read()
      if (done) {
        state = 'done'
        controller.enqueue(tail)
        controller.close()
        return
      }
      controller.enqueue(value)
    },
    cancel(reason) {
      return reader.cancel(reason)
    },
  })
}

async function parse<T>(response: Response): Promise<T> {
  const text = await response.text()
  let body: unknown
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = undefined
  }
  if (!response.ok) throw new ApiError(response.status, body as ErrorBody | undefined, response.headers)
  return body as T
}
