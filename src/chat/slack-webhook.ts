/**
 * Slack reads `<...>` as a link or a mention (`<!channel>`, `<https://evil|docs>`)
 * and `&` as the start of an entity, so text from pull requests (anyone can
 * title one) is escaped to stay literal.
 */
export function escapeSlackText(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
}

/**
 * Posts a message to a Slack incoming webhook. A chat outage must never fail
 * a release, so this reports instead of throwing.
 */
export async function postToSlack(
  webhookUrl: string,
  text: string,
  fetchImpl: typeof fetch = fetch
): Promise<{ ok: boolean; detail: string }> {
  try {
    const response = await fetchImpl(webhookUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text }),
      signal: AbortSignal.timeout(10_000)
    })
    const detail = (await response.text()).slice(0, 200)
    return {
      ok: response.ok,
      detail: `HTTP ${response.status} ${detail}`.trim()
    }
  } catch (error) {
    return { ok: false, detail: String(error) }
  }
}
