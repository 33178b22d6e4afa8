import type { VerifiedClaims } from '../token/claims.js'

declare global {
  // Declaration merging is the way Express request types are extended.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Claims of the verified, unrevoked token; set by `requireAuth`. */
      auth?: VerifiedClaims
    }
  }
}

export {}
