import type { Http } from './http.ts'

/** API.md › Chat: filled in by the chat service's work. */
export class ChatApi {
  protected readonly http: Http

  constructor(http: Http) {
    this.http = http
  }
}
