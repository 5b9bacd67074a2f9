/**
 * Account names and the engine's account numbers, in one place.
 *
 * The engine knows accounts by number (risk limits, positions, self-trade
 * prevention); people, tokens and the wire know them by name. The registry
 * maps one to the other and names each number in the journal (a
 * define-account command, submitted through the dispatcher), so that tools
 * and recovery print names and a restart gives every name its old number.
 *
 * Numbers: those the journal already names (the recovery report's
 * `accounts`), those a source fixes (the synthetic market's participants are
 * 0, 1, 2, …), and for any other name the next number above all of them.
 *
 * @module
 */

import type { ControlResult, Dispatcher, Origin } from "./dispatcher.ts";

/** Options for {@linkcode AccountRegistry}. */
export interface AccountRegistryOptions {
  /** Where definitions are submitted. */
  readonly dispatcher: Pick<Dispatcher, "submitControl">;
  /** Numbers and names the journal already holds (the recovery report's `accounts`). */
  readonly known?: Iterable<readonly [number, string]>;
  /** Where a refused definition is reported (default `console.error`). */
  readonly onError?: (error: Error) => void;
}

const ORIGIN: Origin = Object.freeze({ source: "accounts" });

/** The largest account number (the engine's field is 32 bits; all ones means "every account"). */
const MAX_ACCOUNT = 0xffff_fffe;

/**
 * Names ↔ engine account numbers; see the module documentation.
 *
 * @example
 * ```ts
 * import { AccountRegistry } from "./accounts.ts";
 * const submitted: unknown[] = [];
 * const accounts = new AccountRegistry({
 *   dispatcher: { submitControl: (c) => (submitted.push(c), Promise.resolve({ ok: true })) },
 *   known: [[0, "MM1"], [1, "MM2"]],
 * });
 * const alice = accounts.ensure("ALICE");
 * if (alice !== 2 || accounts.ensure("ALICE") !== 2 || accounts.name(2) !== "ALICE") {
 *   throw new Error("ALICE should get number 2, once");
 * }
 * if (submitted.length !== 1) throw new Error("one definition expected");
 * ```
 */
export class AccountRegistry {
  readonly #dispatcher: Pick<Dispatcher, "submitControl">;
  readonly #onError: (error: Error) => void;
  readonly #byName = new Map<string, number>();
  readonly #byNumber = new Map<number, string>();
  /** The engine's answer to each definition this registry submitted. */
  readonly #answers = new Map<number, Promise<ControlResult>>();
  #next = 0;

  /**
   * Starts from what the journal already names.
   *
   * @param options The dispatcher, the known accounts, the error sink.
   * @throws {RangeError} When `known` gives one name two numbers or one number two names.
   */
  constructor(options: AccountRegistryOptions) {
    this.#dispatcher = options.dispatcher;
    this.#onError = options.onError ?? ((error) => console.error(error.message));
    for (const [number, name] of options.known ?? []) this.#record(number, name);
  }

  #record(number: number, name: string): void {
    const had = this.#byNumber.get(number);
    const hadNumber = this.#byName.get(name);
    if ((had !== undefined && had !== name) || (hadNumber !== undefined && hadNumber !== number)) {
      throw new RangeError(
        `Cannot name account ${number} ${JSON.stringify(name)}: ${
          had !== undefined && had !== name
            ? `it is already ${JSON.stringify(had)}`
            : `that name is already account ${hadNumber}`
        }`,
      );
    }
    this.#byNumber.set(number, name);
    this.#byName.set(name, number);
    if (number >= this.#next) this.#next = number + 1;
  }

  /**
   * The number of an account.
   *
   * @param name The account's name.
   * @returns Its number, or undefined when it has none yet.
   */
  number(name: string): number | undefined {
    return this.#byName.get(name);
  }

  /**
   * The name of an account number.
   *
   * @param number The account number.
   * @returns Its name, or undefined when none is known.
   */
  name(number: number): string | undefined {
    return this.#byNumber.get(number);
  }

  /** How many accounts are named. */
  get size(): number {
    return this.#byName.size;
  }

  /**
   * Names a fixed account number (a source whose numbers are given, such as
   * the synthetic market's participants). Already named so: nothing is
   * submitted.
   *
   * @param number The account number.
   * @param name Its name (1 to 48 bytes of UTF-8).
   * @returns The engine's answer (at once, `ok`, when nothing was submitted).
   * @throws {RangeError} When the number or the name is already taken otherwise,
   *   or the name is not 1 to 48 bytes of UTF-8.
   */
  define(number: number, name: string): Promise<ControlResult> {
    if (this.#byNumber.get(number) === name) return Promise.resolve({ ok: true });
    if (!Number.isInteger(number) || number < 0 || number > MAX_ACCOUNT) {
      throw new RangeError(`Cannot name account ${number}: not an account number`);
    }
    const answer = this.#dispatcher.submitControl({ defineAccount: number, name }, ORIGIN);
    this.#record(number, name);
    this.#answers.set(number, answer);
    return answer;
  }

  /**
   * Like {@linkcode AccountRegistry.ensure}, but resolves once the engine
   * has taken the definition (at once for an account it already knew).
   *
   * @param name The account's name (1 to 48 bytes of UTF-8).
   * @returns Its number.
   * @throws {Error} When the engine refused the definition (it has halted).
   */
  async defined(name: string): Promise<number> {
    const number = this.ensure(name);
    const answer = await (this.#answers.get(number) ?? { ok: true as const });
    if (!answer.ok) {
      throw new Error(
        `Cannot name account ${number} ${
          JSON.stringify(name)
        }: the engine refused (${answer.reason})`,
      );
    }
    return number;
  }

  /**
   * The number of `name`, giving it the next free number when it has none.
   * The definition is submitted through the dispatcher, so it reaches the
   * engine (and the journal) before any command submitted afterwards; a
   * refusal (a halted engine, which refuses those commands too) goes to
   * `onError`.
   *
   * @param name The account's name (1 to 48 bytes of UTF-8).
   * @returns Its number.
   * @throws {RangeError} When the name is not 1 to 48 bytes of UTF-8, or no number is left.
   */
  ensure(name: string): number {
    const known = this.#byName.get(name);
    if (known !== undefined) return known;
    const number = this.#next;
    if (number > MAX_ACCOUNT) {
      throw new RangeError(`Cannot name account ${JSON.stringify(name)}: no number is left`);
    }
    this.define(number, name).then((answer) => {
      if (!answer.ok) {
        this.#onError(
          new Error(
            `Cannot name account ${number} ${
              JSON.stringify(name)
            }: the engine refused (${answer.reason})`,
          ),
        );
      }
    });
    return number;
  }
}
