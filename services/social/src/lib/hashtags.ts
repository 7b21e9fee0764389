import { SOCIAL_LIMITS } from '@sm/contracts'

const TAG = /(?:^|[^\p{L}\p{N}_&])#([\p{L}\p{N}_]+)/gu
const MAX_TAGS = 30

/** `#Word` tags in text, lower-cased, unique, in order of first appearance; over-long tags are ignored. */
export function parseHashtags(text: string): string[] {
  const tags = new Set<string>()
  for (const match of text.matchAll(TAG)) {
    const tag = (match[1] as string).toLowerCase()
    if (tag.length <= SOCIAL_LIMITS.hashtag && !/^\d+$/.test(tag)) tags.add(tag)
    if (tags.size >= MAX_TAGS) break
  }
  return [...tags]
}
