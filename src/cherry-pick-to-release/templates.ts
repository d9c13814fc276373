import { ConfigurationError } from '../common/errors.js'

/** The placeholders a title or body template may use. */
export const TEMPLATE_FIELDS = [
  'number',
  'title',
  'body',
  'author',
  'target',
  'commits'
] as const

export type TemplateField = (typeof TEMPLATE_FIELDS)[number]

/**
 * Checks that a template only names known `{placeholders}`, so a typo fails
 * at input time instead of showing up in a pull request.
 */
export function validateTemplate(input: string, template: string): string {
  for (const match of template.matchAll(/\{([a-z-]+)\}/g)) {
    if (!(TEMPLATE_FIELDS as readonly string[]).includes(match[1])) {
      throw new ConfigurationError(
        `Input "${input}" has "${template}", which names the unknown placeholder {${match[1]}}; use ${TEMPLATE_FIELDS.map((f) => `{${f}}`).join(', ')}`
      )
    }
  }
  return template
}

/** Fills `{placeholder}`s; the values are inserted as they are, once. */
export function renderTemplate(
  template: string,
  values: Record<TemplateField, string>
): string {
  return template.replace(/\{([a-z-]+)\}/g, (whole, name: string) =>
    name in values ? values[name as TemplateField] : whole
  )
}
