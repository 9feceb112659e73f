/**
 * Failed authentications per client address in a fixed window: past the limit the address is
 * answered 429 without its credentials being looked at, so guessing tokens (or hammering the
 * identity provider's key endpoint with forged JWTs) costs the guesser, not the database.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxTracked = 100_000,
  ) {}

  /** Milliseconds until the address may try again, or 0 when it may now. */
  blockedFor(address: string, now = Date.now()): number {
    if (this.limit <= 0) return 0;
    const w = this.windows.get(address);
    if (!w || w.resetAt <= now) return 0;
    return w.count >= this.limit ? w.resetAt - now : 0;
  }

  fail(address: string, now = Date.now()): void {
    const w = this.windows.get(address);
    if (!w || w.resetAt <= now) {
      if (this.windows.size >= this.maxTracked) this.sweep(now);
      this.windows.set(address, { count: 1, resetAt: now + this.windowMs });
    } else {
      w.count += 1;
    }
  }

  private sweep(now: number): void {
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
    // Still full (a flood from many addresses): start over rather than grow without bound.
    if (this.windows.size >= this.maxTracked) this.windows.clear();
  }
}
