/**
 * Errors with stable codes (Fastify's FST_ERR_* habit): callers and operators branch on
 * `code`, never on message text.
 */
export class VigieError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown; statusCode?: number },
  ) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'VigieError';
    if (options?.statusCode) this.statusCode = options.statusCode;
  }
  statusCode?: number;
}
