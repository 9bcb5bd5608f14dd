/** An error a route raises on purpose: it becomes `{error: {code, message}}` with its status. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** Sent as Retry-After: when to ask again, seconds. */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string) => new HttpError(400, 'bad_request', message);
export const notFound = (message: string) => new HttpError(404, 'not_found', message);

/** The service could not answer in time (its event loop is saturated); the client should retry after `retryAfterS`. */
export const overloaded = (message: string, retryAfterS: number) => new HttpError(503, 'overloaded', message, retryAfterS);
