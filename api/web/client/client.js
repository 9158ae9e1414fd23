// Signet's browser client: one dependency-free ES module, served at /auth/client.js (its
// TypeScript declarations at /auth/client.d.ts). Read it as it is; no build step.
//
//   import { createSignet } from "https://signet.example/auth/client.js";
//   const signet = createSignet({ baseUrl: "https://signet.example" });
//   signet.onChange((user) => render(user));
//   await signet.me();
//
// Two transports, as Signet has two:
// - "cookie" (the default): Signet sets an HttpOnly session cookie that this code never sees;
//   every call says `credentials: "include"`, so it also travels from another allowed origin.
// - "bearer": for an SPA on another site, where a cookie would be third-party. The token is
//   kept in this object's memory only (never in storage a script injected later could read)
//   and sent as `Authorization: Bearer`; a reload signs the tab out.
//
// Every failed call throws a SignetError made from Signet's RFC 9457 problem document.

const JSON_TYPE = "application/json";

/** A refusal from Signet (or a network failure, status 0), with the problem's fields. */
export class SignetError extends Error {
  /**
   * @param {{type?: string, status?: number, title?: string, detail?: string}} problem
   * @param {{cause?: unknown}} [options]
   */
  constructor(problem, options) {
    super(problem.detail || problem.title || "Signet refused the request", options);
    this.name = "SignetError";
    /** The problem type, a URI: what went wrong, for code to branch on. */
    this.type = problem.type || "about:blank";
    /** The HTTP status; 0 when no answer came. */
    this.status = problem.status ?? 0;
    /** A short summary, the same for every problem of this type. */
    this.title = problem.title || "";
    /** What happened this time and what to do, in words a person can read. */
    this.detail = problem.detail || "";
    /** The whole problem document, extension members included. */
    this.problem = problem;
  }
}

/**
 * A client for the Signet at `baseUrl` ("" for the page's own origin).
 * @param {{baseUrl?: string, transport?: "cookie" | "bearer"}} [options]
 */
export function createSignet({ baseUrl = "", transport = "cookie" } = {}) {
  if (transport !== "cookie" && transport !== "bearer") {
    throw new TypeError(`transport must be "cookie" or "bearer", not ${JSON.stringify(transport)}`);
  }
  const base = String(baseUrl).replace(/\/+$/, "");
  const bearer = transport === "bearer";
  let token = null; // bearer only: the access token, in memory
  let known; // the email last seen signed in, null when signed out, undefined before we know
  const listeners = new Set();
  // Other tabs on this origin hear of sign-ins and sign-outs; each then asks Signet itself, since
  // what the other tab did may not apply here (another transport, another bearer session).
  const channel =
    typeof BroadcastChannel === "function" ? new BroadcastChannel(`signet:${base}`) : null;
  if (channel) {
    channel.onmessage = () => {
      if (listeners.size) me().catch(() => {});
    };
  }

  /** Tell the listeners when who is signed in changed; `announce` tells the other tabs too. */
  function settle(user, { announce = false } = {}) {
    const email = user ? user.email : null;
    if (email !== known) {
      known = email;
      for (const listener of [...listeners]) listener(user);
    }
    if (announce && channel) channel.postMessage(user ? "signed-in" : "signed-out");
    return user;
  }

  async function request(method, path, { body, authenticated = true, as = token } = {}) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = JSON_TYPE;
    if (bearer && as) headers.Authorization = `Bearer ${as}`;
    let response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: bearer ? "omit" : "include",
        cache: "no-store",
      });
    } catch (error) {
      throw new SignetError(
        { status: 0, title: "Signet could not be reached", detail: String(error.message || error) },
        { cause: error },
      );
    }
    if (response.ok) {
      return response.status === 204 ? null : response.json();
    }
    const error = await problemOf(response);
    // A session that ended elsewhere: this client is signed out now.
    if (response.status === 401 && authenticated) {
      token = null;
      settle(null);
    }
    throw error;
  }

  async function problemOf(response) {
    const problem = await response.json().catch(() => ({}));
    // The answer's own status, whatever the document says (RFC 9457 calls its member advisory).
    return new SignetError({
      ...problem,
      status: response.status,
      title: problem.title || response.statusText,
    });
  }

  // The user after signing in: a cookie sign-in answers with the user; a bearer one with the
  // token, which is then used to ask who it is. A token held before is let go of, so its
  // session is ended too, as Signet replaces a cookie's.
  async function signedIn(answer) {
    if (!bearer) return settle(answer, { announce: true });
    const previous = token;
    token = answer.access_token;
    if (previous) {
      await request("POST", "/auth/logout", { authenticated: false, as: previous }).catch(() => {});
    }
    const user = await request("GET", "/auth/me");
    return settle(user, { announce: true });
  }

  // Where a link or a redirect comes back to by default: this page, as a path when Signet is on
  // this origin (a path is always allowed), else as a URL (its origin must be an allowed one).
  function here() {
    const sameOrigin = new URL(base || "/", location.href).origin === location.origin;
    return sameOrigin ? location.pathname + location.search + location.hash : location.href;
  }

  function signInPath(cookiePath, tokenPath) {
    return bearer ? tokenPath : cookiePath;
  }

  /**
   * Who is signed in, or null when nobody is (401). Throws a SignetError when Signet refuses a
   * signed-in user (403: the site's policy no longer lets them in) or cannot answer.
   */
  async function me() {
    if (bearer && !token) return settle(null);
    try {
      return settle(await request("GET", "/auth/me", { authenticated: false }));
    } catch (error) {
      if (error.status === 401) {
        token = null;
        return settle(null);
      }
      throw error;
    }
  }

  /** The providers Signet offers: [{name, kind, display_name, start_url}]. */
  function providers() {
    return request("GET", "/auth/providers", { authenticated: false });
  }

  /**
   * Go to the provider's own page to sign in (the redirect flow); the browser comes back to
   * `returnTo` (this page unless given), which must be on Signet's or an allowed origin.
   * Cookie transport only: a redirect cannot hand a bearer token to this page.
   * @param {string | {name: string}} provider
   * @param {{returnTo?: string}} [options]
   */
  function signInWith(provider, { returnTo } = {}) {
    if (bearer) {
      throw new SignetError({
        type: "urn:signet:client:redirect-needs-cookies",
        title: "Not with bearer tokens",
        detail: "A redirect sign-in ends in a session cookie; with bearer tokens, sign in with " +
          "an emailed code, a passkey or an assertion.",
      });
    }
    const name = typeof provider === "string" ? provider : provider.name;
    const back = returnTo ?? here();
    const start = `${base}/auth/providers/${encodeURIComponent(name)}/start`;
    location.assign(`${start}?return_to=${encodeURIComponent(back)}`);
  }

  /**
   * Sign in with an assertion the page got from an identity provider's own script (Persona, an
   * ID token); `provider` names it when Signet has several.
   * @param {string} assertion
   * @param {{provider?: string}} [options]
   */
  async function signInWithAssertion(assertion, { provider } = {}) {
    const body = provider ? { assertion, provider } : { assertion };
    const path = signInPath("/auth/login", "/auth/token");
    return signedIn(await request("POST", path, { body, authenticated: false }));
  }

  const email = {
    /**
     * Email a one-time code, and a link that signs in whichever browser opens it and then goes
     * to `returnTo` (this page unless given). Resolves {email, expires_in} once the mail
     * server has the message.
     * @param {string} address
     * @param {{returnTo?: string}} [options]
     */
    start(address, { returnTo } = {}) {
      const body = { email: address, return_to: returnTo ?? here() };
      return request("POST", "/auth/email/start", { body, authenticated: false });
    },
    /**
     * Sign in with the code from that message; resolves the user.
     * @param {string} address
     * @param {string} code
     */
    async verify(address, code) {
      const path = signInPath("/auth/email/verify", "/auth/email/token");
      const body = { email: address, code };
      return signedIn(await request("POST", path, { body, authenticated: false }));
    },
  };

  const passkeys = {
    /**
     * Make a passkey for the signed-in user on this device (the browser asks the person), and
     * register it under `name`; resolves the passkey.
     * @param {{name?: string}} [options]
     */
    async register({ name } = {}) {
      const options = await request("POST", "/auth/passkeys/registration/options", { body: {} });
      const credential = await navigator.credentials.create({
        publicKey: creationOptions(options),
      });
      const body = { credential: credentialJSON(credential) };
      if (name) body.name = name;
      return request("POST", "/auth/passkeys/registration", { body });
    },
    /**
     * Sign in with a passkey; resolves the user. With `conditional`, the browser offers the
     * passkeys in the autofill of a field marked `autocomplete="username webauthn"` instead of
     * a dialog, and this waits until the person picks one (abort it with `signal`).
     * @param {{conditional?: boolean, signal?: AbortSignal}} [options]
     */
    async signIn({ conditional = false, signal } = {}) {
      const path = "/auth/passkeys/authentication/options";
      const options = await request("POST", path, { body: {}, authenticated: false });
      const credential = await navigator.credentials.get({
        publicKey: requestOptions(options),
        ...(conditional ? { mediation: "conditional" } : {}),
        ...(signal ? { signal } : {}),
      });
      const body = { credential: credentialJSON(credential) };
      const signIn = signInPath("/auth/passkeys/authentication", "/auth/passkeys/token");
      return signedIn(await request("POST", signIn, { body, authenticated: false }));
    },
    /** The signed-in user's passkeys. */
    list() {
      return request("GET", "/auth/passkeys");
    },
    /**
     * Rename a passkey; resolves it.
     * @param {string} id
     * @param {string} name
     */
    rename(id, name) {
      return request("PATCH", `/auth/passkeys/${encodeURIComponent(id)}`, { body: { name } });
    },
    /**
     * Remove a passkey: it no longer signs anyone in (the device may still list it).
     * @param {string} id
     */
    async remove(id) {
      await request("DELETE", `/auth/passkeys/${encodeURIComponent(id)}`);
    },
  };

  const sessions = {
    /** Where the signed-in user is signed in, newest first; `current` marks this one. */
    list() {
      return request("GET", "/auth/sessions");
    },
    /**
     * End one of the signed-in user's sessions.
     * @param {string} id
     */
    async end(id) {
      await request("DELETE", `/auth/sessions/${encodeURIComponent(id)}`);
    },
  };

  /** Sign out here: Signet ends this session. */
  async function signOut() {
    try {
      await request("POST", "/auth/logout", { authenticated: false });
    } catch (error) {
      // A bearer token is forgotten all the same: this tab is signed out either way.
      if (bearer && token) {
        token = null;
        settle(null);
      }
      throw error;
    }
    token = null;
    settle(null, { announce: true });
  }

  /** Sign out of every session of this user, on every device. */
  async function signOutEverywhere() {
    await request("POST", "/auth/logout-everywhere");
    token = null;
    settle(null, { announce: true });
  }

  /**
   * Call `callback(user)` when someone signs in, and `callback(null)` on signing out: through
   * this client, another tab of this site, or found out by asking (me(), a 401). Returns a
   * function that stops the calls.
   * @param {(user: object | null) => void} callback
   */
  function onChange(callback) {
    listeners.add(callback);
    return () => listeners.delete(callback);
  }

  /** Bearer transport: the access token to send to the app's own API; null when signed out. */
  function accessToken() {
    return token;
  }

  return {
    me,
    providers,
    signInWith,
    signInWithAssertion,
    email,
    passkeys,
    sessions,
    signOut,
    signOutEverywhere,
    onChange,
    accessToken,
  };
}

// WebAuthn's options and credentials as JSON (WebAuthn Level 3): the browser's own
// parse…FromJSON and toJSON() where it has them, else the binary fields by hand.

function creationOptions(json) {
  if (PublicKeyCredential.parseCreationOptionsFromJSON) {
    return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  }
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    user: { ...json.user, id: fromBase64url(json.user.id) },
    excludeCredentials: (json.excludeCredentials || []).map(withBinaryId),
  };
}

function requestOptions(json) {
  if (PublicKeyCredential.parseRequestOptionsFromJSON) {
    return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  }
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    allowCredentials: (json.allowCredentials || []).map(withBinaryId),
  };
}

function withBinaryId(descriptor) {
  return { ...descriptor, id: fromBase64url(descriptor.id) };
}

function credentialJSON(credential) {
  if (typeof credential.toJSON === "function") return credential.toJSON();
  const { response } = credential;
  const json = {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
    response: { clientDataJSON: toBase64url(response.clientDataJSON) },
  };
  if (response.attestationObject) {
    json.response.attestationObject = toBase64url(response.attestationObject);
    json.response.transports = response.getTransports ? response.getTransports() : [];
  } else {
    json.response.authenticatorData = toBase64url(response.authenticatorData);
    json.response.signature = toBase64url(response.signature);
    if (response.userHandle) json.response.userHandle = toBase64url(response.userHandle);
  }
  return json;
}

function toBase64url(buffer) {
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (character) => character.charCodeAt(0)).buffer;
}
