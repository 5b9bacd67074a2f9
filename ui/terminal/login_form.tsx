/**
 * The login form: account and password, sent to the core's
 * `POST /auth/login` by {@linkcode Terminal.login}; a refusal is shown as
 * the core words it. After the terminal logged out by itself (the token
 * expired unrefreshed), the form says so until the next attempt.
 *
 * @module
 */

import { useSignal } from "@preact/signals";
import type { Terminal } from "./terminal.ts";

/**
 * The login form.
 *
 * @param props The terminal.
 * @returns The form.
 */
export function LoginForm({ terminal }: { terminal: Terminal }) {
  const account = useSignal("");
  const password = useSignal("");
  const error = useSignal("");
  const busy = useSignal(false);
  const submit = async () => {
    busy.value = true;
    error.value = (await terminal.login(account.value, password.value)) ?? "";
    busy.value = false;
  };
  return (
    <form
      class="panel login"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h1>TradeCaptain terminal</h1>
      <label>
        Account
        <input
          name="account"
          autocomplete="username"
          value={account}
          onInput={(e) => account.value = e.currentTarget.value}
        />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autocomplete="current-password"
          value={password}
          onInput={(e) => password.value = e.currentTarget.value}
        />
      </label>
      <button type="submit" disabled={busy}>Log in</button>
      <p class="error" role="alert">{error.value || loggedOutWhy(terminal)}</p>
    </form>
  );
}

/** Why the terminal logged out by itself ("Logged out: …"), or `""` after a login or logout. */
function loggedOutWhy(terminal: Terminal): string {
  const why = terminal.why.value;
  return terminal.status.value === "stopped" && why !== "" && why !== "logged out"
    ? `Logged out: ${why}`
    : "";
}
