/**
 * Markdown pieces for job summaries. Kept as plain strings (not
 * `core.summary`) so domains can render them and tests can read them.
 */

/** Escapes the characters that would break a Markdown table cell. */
export function cell(value: unknown): string {
  return String(value ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, '<br>')
}

/** A Markdown table with a header row. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly unknown[])[]
): string {
  const lines = [
    `| ${header.map(cell).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)
  ]
  return lines.join('\n')
}

/** A collapsed block for long details such as logs. */
export function details(summaryText: string, body: string): string {
  return `<details><summary>${summaryText}</summary>\n\n${body}\n\n</details>`
}

/** A fenced code block that cannot be closed early by its content. */
export function codeBlock(text: string, language = ''): string {
  const fence = text.includes('```') ? '````' : '```'
  return `${fence}${language}\n${text}\n${fence}`
}
