/** The seed's exact strings, quirks included. Clients match on them; change none. */
export const SEED = {
  signedUp: 'you have successfully signed up on Ras',
  loggedIn: 'you have successfully logged in',
  loggedOut: 'You have been successfully logged out',
  emailInvalid: 'please enter a valid email address',
  emailTaken: 'email already exist, please use different email',
  invalidCredentials: 'Invalid username or password',
  deactivated: 'This account has been deactivated',
  credentialsMissing: 'Authentication credentials were not provided.',
  invalidToken: 'Invalid Token',
  permissionDenied: 'You do not have permission to perform this action.',
  notFoundDetail: 'Not found.',
} as const;

/** Ras's own strings, for what the seed does not cover. */
export const MESSAGES = {
  sessions: 'sessions',
  sessionRevoked: 'session revoked',
  loggedOutEverywhere: 'You have been logged out everywhere',
  passwordChanged: 'password changed',
  notFound: 'Not found',
  routeNotFound: 'route not found',
  methodNotAllowed: 'method not allowed',
  malformedJson: 'request body is not valid JSON',
  bodyTooLarge: 'request body is too large',
  unsupportedMediaType:
    'unsupported content type: send application/json or application/x-www-form-urlencoded',
  throttled: 'too many failed attempts, please try again later',
  rateLimited: 'too many requests, please try again later',
  unavailable: 'service temporarily unavailable, please try again',
  busy: 'too many password checks in progress, please try again in a second',
  internal: 'internal server error',
  badRequest: 'bad request',
} as const;
