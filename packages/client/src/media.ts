import type { Http } from './http.ts'

/** API.md › Media: filled in by the media service's work. */
export class MediaApi {
  protected readonly http: Http

  constructor(http: Http) {
    this.http = http
  }
}
