import type { OpenDatabase } from '../../store/open-database.js'
import { quote } from '../output.js'

/** Returns a sentence on when running instances start to reject the revoked tokens. */
export function propagationNotice(database: OpenDatabase, notifyChannel: string): string {
  if (database.kind === 'pglite') {
    return 'An app that opens this embedded database reads the new cutoff on its next lookup.'
  }
  return (
    `Instances that LISTEN on channel ${quote(notifyChannel)} drop their cached cutoffs at once; ` +
    'others reject these tokens once their cached entry expires (cacheTtlMs, 10 s by default).'
  )
}
