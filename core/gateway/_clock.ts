/**
 * The gateway's wall clock in the wire's unit. Private to `core/gateway/`.
 *
 * @module
 */

/**
 * Nanoseconds since the Unix epoch (sub-microsecond resolution), as the
 * wire's `sentAt` fields carry them.
 *
 * @returns The time.
 */
export function nowNs(): bigint {
  const ms = performance.timeOrigin + performance.now();
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.floor((ms - whole) * 1e6));
}
