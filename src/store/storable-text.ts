/**
 * Checks whether PostgreSQL can store `value` as `text` unchanged: text
 * cannot contain NUL, and a lone UTF-16 surrogate would be stored as U+FFFD,
 * so two different ids could end up as the same row.
 */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && value.isWellFormed()
}
