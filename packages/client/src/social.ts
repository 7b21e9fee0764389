import type {
  Comment,
  CommentPage,
  CreateCommentBody,
  CreatePostBody,
  MyAnalytics,
  Post,
  PostAnalytics,
  PostPage,
  Profile,
  ShareAccepted,
  SharePostBody,
  UpdatePostBody,
  UpdateProfileBody,
  UserSummaryPage,
  VoteResult,
  VoteValue,
} from '@sm/contracts'
import type { Http } from './http.ts'

/** `?limit=&cursor=` of every list route. */
export interface PageOptions {
  limit?: number
  cursor?: string | null
}

const page = (opts: PageOptions = {}) => ({ limit: opts.limit, cursor: opts.cursor ?? undefined })
const segment = encodeURIComponent

/** API.md › Profiles and follows; Posts, votes, comments. */
export class SocialApi {
  protected readonly http: Http

  constructor(http: Http) {
    this.http = http
  }

  // Profiles and follows

  me(): Promise<Profile> {
    return this.http.request('GET', '/users/me')
  }

  updateMe(body: UpdateProfileBody): Promise<Profile> {
    return this.http.request('PATCH', '/users/me', { body })
  }

  removeAvatar(): Promise<void> {
    return this.http.request('DELETE', '/users/me/avatar')
  }

  profile(username: string): Promise<Profile> {
    return this.http.request('GET', `/users/${segment(username)}`)
  }

  follow(username: string): Promise<void> {
    return this.http.request('PUT', `/users/${segment(username)}/follow`)
  }

  unfollow(username: string): Promise<void> {
    return this.http.request('DELETE', `/users/${segment(username)}/follow`)
  }

  followers(username: string, opts?: PageOptions): Promise<UserSummaryPage> {
    return this.http.request('GET', `/users/${segment(username)}/followers`, { query: page(opts) })
  }

  following(username: string, opts?: PageOptions): Promise<UserSummaryPage> {
    return this.http.request('GET', `/users/${segment(username)}/following`, { query: page(opts) })
  }

  userPosts(username: string, opts?: PageOptions): Promise<PostPage> {
    return this.http.request('GET', `/users/${segment(username)}/posts`, { query: page(opts) })
  }

  // Posts

  createPost(body: CreatePostBody): Promise<Post> {
    return this.http.request('POST', '/posts', { body })
  }

  /** Counts one view. */
  post(id: string): Promise<Post> {
    return this.http.request('GET', `/posts/${segment(id)}`)
  }

  updatePost(id: string, body: UpdatePostBody): Promise<Post> {
    return this.http.request('PATCH', `/posts/${segment(id)}`, { body })
  }

  deletePost(id: string): Promise<void> {
    return this.http.request('DELETE', `/posts/${segment(id)}`)
  }

  votePost(id: string, value: VoteValue): Promise<VoteResult> {
    return this.http.request('PUT', `/posts/${segment(id)}/vote`, { body: { value } })
  }

  sharePost(id: string, body: SharePostBody): Promise<ShareAccepted> {
    return this.http.request('POST', `/posts/${segment(id)}/share`, { body })
  }

  postAnalytics(id: string): Promise<PostAnalytics> {
    return this.http.request('GET', `/posts/${segment(id)}/analytics`)
  }

  // Comments

  comments(postId: string, opts?: PageOptions): Promise<CommentPage> {
    return this.http.request('GET', `/posts/${segment(postId)}/comments`, { query: page(opts) })
  }

  comment(postId: string, body: CreateCommentBody): Promise<Comment> {
    return this.http.request('POST', `/posts/${segment(postId)}/comments`, { body })
  }

  updateComment(id: string, text: string): Promise<Comment> {
    return this.http.request('PATCH', `/comments/${segment(id)}`, { body: { text } })
  }

  deleteComment(id: string): Promise<void> {
    return this.http.request('DELETE', `/comments/${segment(id)}`)
  }

  voteComment(id: string, value: VoteValue): Promise<VoteResult> {
    return this.http.request('PUT', `/comments/${segment(id)}/vote`, { body: { value } })
  }

  // Feed, hashtags, analytics

  feed(opts?: PageOptions): Promise<PostPage> {
    return this.http.request('GET', '/feed', { query: page(opts) })
  }

  hashtagPosts(tag: string, opts?: PageOptions): Promise<PostPage> {
    return this.http.request('GET', `/hashtags/${segment(tag)}/posts`, { query: page(opts) })
  }

  myAnalytics(): Promise<MyAnalytics> {
    return this.http.request('GET', '/me/analytics')
  }
}
