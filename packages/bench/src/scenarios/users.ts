/** Registers `count` users straight at auth (bench stacks run bcrypt at cost 4) and returns their ids and tokens. */
export async function registerUsers(authUrl: string, count: number, concurrency = 20): Promise<Array<{ id: string; token: string }>> {
  const users: Array<{ id: string; token: string }> = new Array(count)
  const tag = Date.now().toString(36)
  let next = 0
  const worker = async () => {
    while (next < count) {
      const index = next++
      const response = await fetch(`${authUrl}/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: `b${tag}_${index}`, email: `b${tag}_${index}@bench.test`, password: 'bench password' }),
      })
      if (response.status !== 201) throw new Error(`register failed: ${response.status} ${await response.text()}`)
      const session = (await response.json()) as { user: { id: string }; accessToken: string }
      users[index] = { id: session.user.id, token: session.accessToken }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return users
}
