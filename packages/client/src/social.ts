import type { Http } from './http.ts'

/** API.md › Social: filled in by the social service's work. */
export class SocialApi {
  protected readonly http: Http

  constructor(http: Http) {
    this.http = http
  }
}
