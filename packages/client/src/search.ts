import type { HashtagSearchPage, PostSearchPage, TrendingHashtags, UserSearchPage } from '@sm/contracts'
import type { Http } from './http.ts'

export interface SearchParams {
  q: string
  limit?: number
  cursor?: string
}

/** API.md › Search. Public routes: no token is sent. */
export class SearchApi {
  protected readonly http: Http

  constructor(http: Http) {
    this.http = http
  }

  users(params: SearchParams): Promise<UserSearchPage> {
    return this.http.request('GET', '/search/users', { query: { ...params }, anonymous: true })
  }

  posts(params: SearchParams): Promise<PostSearchPage> {
    return this.http.request('GET', '/search/posts', { query: { ...params }, anonymous: true })
  }

  hashtags(params: SearchParams): Promise<HashtagSearchPage> {
    return this.http.request('GET', '/search/hashtags', { query: { ...params }, anonymous: true })
  }

  trendingHashtags(params: { limit?: number; hours?: number } = {}): Promise<TrendingHashtags> {
    return this.http.request('GET', '/search/hashtags/trending', { query: { ...params }, anonymous: true })
  }
}
