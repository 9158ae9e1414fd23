// How a single-page app talks to Signet.
//
// Every call says `credentials: "include"` so the browser sends and stores the session cookie,
// also when the SPA is served from another origin than Signet (set SIGNET below to Signet's
// origin then). The cookie is HttpOnly: this code never sees it, it only asks /auth/me.
// Bodies are JSON: Signet refuses anything else with 415, which is what keeps other sites
// from logging people in with a plain HTML form.

const SIGNET = ""; // same origin as this page

const $ = (id) => document.getElementById(id);
const JSON_HEADERS = { "Content-Type": "application/json" };

// What a failed redirect sign-in means, in words (Signet adds ?signet_error=<code>); Signet's
// own sign-in page says the same (tests/test_demo.py checks they agree).
const SIGN_IN_ERRORS = {
  access_denied: "You cancelled signing in, or the provider did not let you in.",
  email_not_verified: "That provider does not vouch for your email address.",
  account_exists: "An account with this email exists: sign in the way you did before.",
  account_disabled: "This account is disabled. Ask whoever runs this site.",
  not_allowed: "This site does not let that account in. Ask whoever runs it for access.",
  identity_in_use: "That account is already linked to another user.",
  invalid_response: "The provider's answer did not check out. Please try again.",
  provider_unavailable: "The provider could not be reached. Please try again shortly.",
  temporarily_unavailable: "Too many attempts, or the provider is busy. Wait, then retry.",
  server_error: "The provider ran into a problem. Please try again shortly.",
};

let providers = []; // from GET /auth/providers
let codeSentTo = null; // the address Signet emailed a code to, as Signet spelled it

async function problemOf(response) {
  // Signet's errors are RFC 9457 problems: `detail` says in words what happened and what to do.
  const body = await response.json().catch(() => ({}));
  return new Error(body.detail || body.title || response.statusText || "Something went wrong");
}

async function currentUser() {
  const response = await fetch(`${SIGNET}/auth/me`, { credentials: "include" });
  return response.ok ? response.json() : null;
}

// A real app gets the assertion from its identity provider's own script; here it comes from
// the development identity provider that Signet mounts in development.
async function assertionFor(email) {
  const response = await fetch(`${SIGNET}/dev-idp/assertions`, {
    method: "POST",
    headers: JSON_HEADERS,
    body: JSON.stringify({ email }),
  });
  if (!response.ok) throw await problemOf(response);
  return (await response.json()).assertion;
}

async function logIn(assertion) {
  // With several providers, say which one issued the assertion.
  const persona = providers.find((provider) => provider.kind === "persona");
  const body = providers.length > 1 && persona ? { assertion, provider: persona.name } : { assertion };
  const response = await fetch(`${SIGNET}/auth/login`, {
    method: "POST",
    credentials: "include",
    headers: JSON_HEADERS,
    body: JSON.stringify(body),
  });
  if (!response.ok) throw await problemOf(response);
  return response.json();
}

// Signing in with a code by email: Signet mails a code and a link in one message. The link
// signs in whichever browser opens it and comes back to return_to; this page asks for the code.
async function emailCode(email) {
  const response = await fetch(`${SIGNET}/auth/email/start`, {
    method: "POST",
    credentials: "include",
    headers: JSON_HEADERS,
    body: JSON.stringify({ email, return_to: location.pathname }),
  });
  // 202 only once the mail server accepted the message.
  if (!response.ok) throw await problemOf(response);
  return response.json(); // { email, expires_in }
}

async function verifyCode(email, code) {
  // As POST /auth/login: the user, and the session cookie.
  const response = await fetch(`${SIGNET}/auth/email/verify`, {
    method: "POST",
    credentials: "include",
    headers: JSON_HEADERS,
    body: JSON.stringify({ email, code }),
  });
  if (!response.ok) throw await problemOf(response);
  return response.json();
}

async function logOut() {
  await fetch(`${SIGNET}/auth/logout`, { method: "POST", credentials: "include" });
}

// "3 minutes ago", in the reader's language.
const UNITS = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
function ago(iso) {
  const seconds = (new Date(iso) - Date.now()) / 1000;
  const [unit, size] = UNITS.find(([, size]) => Math.abs(seconds) >= size) || UNITS[3];
  return new Intl.RelativeTimeFormat(undefined, { numeric: "auto" })
    .format(Math.round(seconds / size), unit);
}

function timeElement(iso, text) {
  const element = document.createElement("time");
  element.dateTime = iso;
  element.title = new Date(iso).toLocaleString();
  element.textContent = text;
  return element;
}

// Where the user is signed in, with a button to end each session but this one. Signet names
// each device in words (`device`: "Chrome on Linux"), with the address it signed in from; the
// raw `user_agent` is there too.
async function showSessions(user) {
  const section = $("id_sessions_section");
  section.hidden = !user;
  if (!user) return;
  const response = await fetch(`${SIGNET}/auth/sessions`, { credentials: "include" });
  if (!response.ok) return;
  const list = $("id_sessions");
  list.replaceChildren();
  for (const session of await response.json()) {
    const item = document.createElement("li");
    const about = document.createElement("span");
    const name = document.createElement("span");
    name.className = "device";
    name.textContent = session.device || "Unknown device";
    name.title = session.user_agent || "";
    const when = document.createElement("span");
    when.className = "hint";
    when.append(
      `${session.kind === "bearer" ? "token" : "browser"}`,
      session.address ? ` · from ${session.address}` : "",
      " · signed in ",
      timeElement(session.created_at, new Date(session.created_at).toLocaleString()),
      " · last seen ",
      timeElement(session.last_seen, ago(session.last_seen)),
    );
    about.append(name, session.current ? " — this one" : "", when);
    item.append(about);
    if (!session.current) {
      const end = document.createElement("button");
      end.type = "button";
      end.textContent = "End";
      end.setAttribute("aria-label", `End the session on ${name.textContent}`);
      end.addEventListener("click", async () => {
        await fetch(`${SIGNET}/auth/sessions/${encodeURIComponent(session.id)}`, {
          method: "DELETE",
          credentials: "include",
        });
        showSessions(user);
      });
      item.append(end);
    }
    list.append(item);
  }
}

function showUser(user) {
  $("id_status").textContent = user ? `Signed in as ${user.email}` : "";
  $("id_status").hidden = !user;
  $("id_logout").hidden = !user;
  $("id_login").hidden = Boolean(user);
  $("id_signin_form").hidden = true;
  $("id_email_code_form").hidden = true;
  $("id_code_form").hidden = true;
  $("id_providers").hidden = true;
  showSessions(user);
}

// A button per provider that signs in through its own page: the browser goes there and back.
function showProviders() {
  const list = $("id_providers");
  list.replaceChildren();
  for (const provider of providers.filter((each) => each.start_url)) {
    const link = document.createElement("a");
    link.className = "button";
    link.href = `${provider.start_url}?return_to=${encodeURIComponent(location.pathname)}`;
    link.textContent = `Sign in with ${provider.display_name}`;
    const item = document.createElement("li");
    item.append(link);
    list.append(item);
  }
  list.hidden = !list.children.length;
}

function showError(message) {
  $("id_error").textContent = message || "";
  $("id_error").hidden = !message;
}

$("id_login").addEventListener("click", async () => {
  showError(null);
  await providersListed; // "Sign in" may show (after /auth/me) before the list is in
  showProviders();
  if (providers.some((provider) => provider.kind === "persona")) {
    $("id_signin_form").hidden = false;
    $("id_email").focus();
  }
  if (providers.some((provider) => provider.kind === "email")) {
    $("id_email_code_form").hidden = false;
    $("id_code_email").focus();
  }
});

$("id_signin_form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError(null);
  try {
    showUser(await logIn(await assertionFor($("id_email").value)));
  } catch (error) {
    showError(error.message);
  }
});

$("id_email_code_form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError(null);
  try {
    const sent = await emailCode($("id_code_email").value);
    codeSentTo = sent.email;
    const minutes = Math.round(sent.expires_in / 60);
    $("id_code_sent").textContent = `We sent a code to ${sent.email}. It works for ${minutes} ` +
      "minutes; so does the link in the same message.";
    $("id_email_code_form").hidden = true;
    $("id_code_form").hidden = false;
    $("id_code").focus();
  } catch (error) {
    showError(error.message);
  }
});

$("id_code_form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError(null);
  try {
    showUser(await verifyCode(codeSentTo, $("id_code").value));
  } catch (error) {
    showError(error.message);
    $("id_code").select();
  }
});

$("id_logout").addEventListener("click", async () => {
  await logOut();
  showUser(null);
});

// Back from a provider that did not sign us in: say why, and tidy the address bar.
const signInError = new URLSearchParams(location.search).get("signet_error");
if (signInError) {
  showError(SIGN_IN_ERRORS[signInError] || "Signing in did not work. Please try again.");
  history.replaceState(null, "", location.pathname);
}

const providersListed = fetch(`${SIGNET}/auth/providers`)
  .then((response) => (response.ok ? response.json() : []))
  .then((listed) => { providers = listed; }, () => {});
currentUser().then(showUser, () => showUser(null));
