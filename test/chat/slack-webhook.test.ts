import { describe, expect, it } from '@jest/globals'
import { escapeSlackText } from '../../src/chat/slack-webhook.js'

describe('escapeSlackText', () => {
  it('keeps a mention and a disguised link literal', () => {
    const title =
      '<!channel> urgent: <https://evil.example/login|release notes> & <@U123>'
    const escaped = escapeSlackText(title)
    expect(escaped).toBe(
      '&lt;!channel&gt; urgent: &lt;https://evil.example/login|release notes&gt; &amp; &lt;@U123&gt;'
    )
    expect(escaped).not.toMatch(/[<>]/)
  })

  it('escapes an ampersand first so an entity in the text stays visible', () => {
    expect(escapeSlackText('a &lt; b')).toBe('a &amp;lt; b')
  })

  it('leaves plain text alone', () => {
    expect(escapeSlackText('Fix invoice rounding (dev)')).toBe(
      'Fix invoice rounding (dev)'
    )
  })
})
