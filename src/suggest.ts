/**
 * Returns a sentence, with a leading space, that suggests the candidates
 * closest to a mistyped `input`, or '' when none is close. Candidates that
 * start with the input all count as close, so "revoke" suggests both revoke
 * commands. Otherwise the candidates at the smallest edit distance count, if
 * that distance is at most 2 or a third of the input's length.
 */
export function suggestionFor(input: string, candidates: readonly string[]): string {
  const matches = closestCandidates(input, candidates)
  if (matches.length === 0) return ''
  const names = matches.map((name) => JSON.stringify(name))
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`
  return ` Did you mean ${list}?`
}

function closestCandidates(input: string, candidates: readonly string[]): string[] {
  if (input === '') return []
  const prefixed = candidates.filter((candidate) => candidate.startsWith(input))
  if (prefixed.length > 0) return prefixed

  const distances = candidates.map((candidate) => ({ candidate, distance: editDistance(input, candidate) }))
  const best = Math.min(...distances.map(({ distance }) => distance))
  const limit = Math.max(2, Math.floor(input.length / 3))
  if (best > limit) return []
  return distances.filter(({ distance }) => distance === best).map(({ candidate }) => candidate)
}

/** Levenshtein distance: the fewest insertions, deletions and substitutions that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution)
    }
    previous = current
  }
  return previous[b.length]!
}
