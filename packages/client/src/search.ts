import type { Http } from './http.ts'

/** API.md › Search: filled in by the search service's work. */
export class SearchApi {
  protected readonly http: Http

  constructor(http: Http) {
    this.http = http
  }
}
