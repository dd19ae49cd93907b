// Requests to the admin API. A 401 anywhere means a login is needed; a 404 on an endpoint
// means this wharfd does not have it (an older version), which the page treats as "absent".

/** Thrown when the API answers 401: the page shows its login form. */
export class LoginRequired extends Error {
  constructor() {
    super("login required");
  }
}

/** Thrown when the gateway cannot be reached or answers with an error. */
export class Unreachable extends Error {}

async function request(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { credentials: "same-origin", cache: "no-store", ...options });
  } catch (error) {
    throw new Unreachable(`the gateway does not answer (${error.message})`);
  }
  if (response.status === 401) throw new LoginRequired();
  return response;
}

/** The JSON at `path`, or null when the endpoint does not exist (404). */
export async function getJSON(path) {
  const response = await request(path, { headers: { Accept: "application/json" } });
  if (response.status === 404) return null;
  if (!response.ok) throw new Unreachable(`${path} answered ${response.status}: ${(await response.text()).trim()}`);
  return response.json();
}

/** The text at `path`, or null when the endpoint does not exist (404). */
export async function getText(path) {
  const response = await request(path);
  if (response.status === 404) return null;
  if (!response.ok) throw new Unreachable(`${path} answered ${response.status}`);
  return response.text();
}

/**
 * An action (POST) as the page sends it: with `X-Wharf-Action: 1`, which a form on another
 * site cannot send. Returns {ok, status, text}.
 */
export async function action(path) {
  const response = await request(path, { method: "POST", headers: { "X-Wharf-Action": "1" } });
  return { ok: response.ok, status: response.status, text: (await response.text()).trim() };
}

/** Logs in; true when the gateway took the user name and password. */
export async function login(user, password) {
  const response = await fetch("/api/v1/session", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Wharf-Action": "1" },
    body: JSON.stringify({ user, password }),
  });
  if (response.status === 401) return false;
  if (!response.ok) throw new Unreachable(`the login answered ${response.status}`);
  return true;
}

/** Logs out (the session cookie is dropped by the gateway). */
export async function logout() {
  await fetch("/api/v1/session", { method: "DELETE", credentials: "same-origin", headers: { "X-Wharf-Action": "1" } });
}
