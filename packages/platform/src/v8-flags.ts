/**
 * V8 settings for every process of the system; imported first by each server.ts, so they apply
 * before the service allocates anything that lasts.
 *
 * `--no-allocation-site-pretenuring`: V8 watches each allocation site and, when most of its
 * objects have survived a young-generation GC, allocates them straight in the old generation.
 * In a request/response server that guess misfires: request-scoped objects that happened to be
 * in flight during a scavenge get pretenured, die an instant later, and until the next full GC
 * every young object they point to counts as alive. Under 600 feed reads/s social copied and
 * promoted ~5 MB per scavenge (99% of what survived the one before), each pause 10–20 ms on a
 * 2-core box; without pretenuring, and with ioredis's auto-pipelining off (redis.ts), 0.15 MB
 * and 2–3 ms. Measured with `--trace-gc-nvp` (new_space_survived, promoted, pause).
 */
import { setFlagsFromString } from 'node:v8'

setFlagsFromString('--no-allocation-site-pretenuring')
