import { createHmac } from 'node:crypto'
import bcrypt from 'bcryptjs'

/**
 * bcrypt reads only the first 72 bytes, so a long passphrase (64 multibyte chars is ~190
 * bytes) would be silently truncated. We pre-hash with HMAC-SHA256 into 44 base64 chars and
 * bcrypt that, so every byte counts. The fixed HMAC key only separates this use of SHA-256.
 */
function prehash(password: string): string {
  return createHmac('sha256', 'socialmedia/password/v1').update(password.normalize('NFC'), 'utf8').digest('base64')
}

export async function hashPassword(password: string, cost: number): Promise<string> {
  return bcrypt.hash(prehash(password), cost)
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(prehash(password), hash)
}

/** A real hash to compare against when the account does not exist, so timing does not tell. */
let dummyHash: Promise<string> | undefined
export async function burnPasswordCheck(password: string, cost: number): Promise<void> {
  dummyHash ??= hashPassword('not-a-real-password', cost)
  await verifyPassword(password, await dummyHash)
}
