// How a single-page app talks to Signet: through Signet's own client, /auth/client.js, and
// nothing else. The client sends the session cookie with every call (`credentials: "include"`),
// also when the SPA is on another allowed origin (give createSignet that origin as baseUrl
// then); the cookie is HttpOnly, so this code never sees it. Every refusal comes back as a
// thrown SignetError whose `detail` says in words what happened and what to do.

import { createSignet } from "/auth/client.js";

const signet = createSignet({ baseUrl: "" }); // Signet is on this page's origin
const $ = (id) => document.getElementById(id);

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

let providers = []; // from signet.providers()
let codeSentTo = null; // the address Signet emailed a code to, as Signet spelled it

// A real app gets the assertion from its identity provider's own script; here it comes from
// the development identity provider that Signet mounts in development. That is the provider's
// part, not Signet's: the assertion then goes to Signet through the client.
async function assertionFor(email) {
  const response = await fetch("/dev-idp/assertions", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || "The identity provider did not answer.");
  return body.assertion;
}

// With several providers, say which one issued the assertion.
function personaName() {
  const persona = providers.find((provider) => provider.kind === "persona");
  return providers.length > 1 && persona ? persona.name : undefined;
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

function button(text, label, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  if (label) element.setAttribute("aria-label", label);
  element.addEventListener("click", onClick);
  return element;
}

// Where the user is signed in, with a button to end each session but this one. Signet names
// each device in words (`device`: "Chrome on Linux"), with the address it signed in from; the
// raw `user_agent` is there too.
async function showSessions() {
  const list = $("id_sessions");
  const sessions = await signet.sessions.list();
  list.replaceChildren();
  for (const session of sessions) {
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
      const label = `End the session on ${name.textContent}`;
      item.append(button("End", label, () => act(async () => {
        await signet.sessions.end(session.id);
        await showSessions();
      })));
    }
    list.append(item);
  }
}

// The user's passkeys, each with a way to rename it (in place) and to remove it. Signet answers
// 404 to every passkey route when passkeys are off: the section then stays hidden.
async function showPasskeys() {
  let passkeys;
  try {
    passkeys = await signet.passkeys.list();
  } catch (error) {
    if (error.status === 404) return;
    throw error;
  }
  $("id_passkeys_section").hidden = false;
  const list = $("id_passkeys");
  list.replaceChildren();
  $("id_no_passkeys").hidden = passkeys.length > 0;
  for (const passkey of passkeys) {
    const item = document.createElement("li");
    const about = document.createElement("span");
    const name = document.createElement("span");
    name.className = "device";
    name.textContent = passkey.name;
    const when = document.createElement("span");
    when.className = "hint";
    when.append(
      "added ",
      timeElement(passkey.created_at, ago(passkey.created_at)),
      passkey.last_used ? " · last used " : " · not used yet",
      passkey.last_used ? timeElement(passkey.last_used, ago(passkey.last_used)) : "",
      passkey.backed_up ? " · synced" : "",
    );
    about.append(name, when);
    const rename = button("Rename", `Rename the passkey ${passkey.name}`, () => {
      item.replaceChildren(renameForm(passkey));
      item.querySelector("input").select();
    });
    const remove = button("Remove", `Remove the passkey ${passkey.name}`, () => act(async () => {
      await signet.passkeys.remove(passkey.id);
      await showPasskeys();
    }));
    item.append(about, rename, remove);
    list.append(item);
  }
}

function renameForm(passkey) {
  const form = document.createElement("form");
  form.className = "rename";
  const input = document.createElement("input");
  input.name = "name";
  input.value = passkey.name;
  input.required = true;
  input.setAttribute("aria-label", `New name for the passkey ${passkey.name}`);
  const save = document.createElement("button");
  save.type = "submit";
  save.textContent = "Save";
  form.append(input, save, button("Cancel", null, () => act(showPasskeys)));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(async () => {
      await signet.passkeys.rename(passkey.id, input.value);
      await showPasskeys();
    });
  });
  return form;
}

// Called by the client whenever who is signed in changes: here, in another tab, or found out.
function showUser(user) {
  $("id_status").textContent = user ? `Signed in as ${user.email}` : "";
  $("id_status").hidden = !user;
  $("id_logout").hidden = !user;
  $("id_login").hidden = Boolean(user);
  $("id_signin_form").hidden = true;
  $("id_email_code_form").hidden = true;
  $("id_code_form").hidden = true;
  $("id_providers").hidden = true;
  $("id_passkey_signin").hidden = true;
  $("id_sessions_section").hidden = !user;
  $("id_passkeys_section").hidden = true;
  if (user) act(() => Promise.all([showSessions(), showPasskeys()]));
}

// A button per provider that signs in through its own page: the browser goes there and back.
function showProviders() {
  const list = $("id_providers");
  list.replaceChildren();
  for (const provider of providers.filter((each) => each.start_url)) {
    const start = button(`Sign in with ${provider.display_name}`, null, () =>
      signet.signInWith(provider, { returnTo: location.pathname }));
    start.className = "button";
    const item = document.createElement("li");
    item.append(start);
    list.append(item);
  }
  list.hidden = !list.children.length;
}

function showError(message) {
  $("id_error").textContent = message || "";
  $("id_error").hidden = !message;
}

// Runs an action, saying what went wrong in the problem's own words if it fails.
async function act(action) {
  showError(null);
  try {
    await action();
    return true;
  } catch (error) {
    showError(error.message);
    return false;
  }
}

function onSubmit(id, action) {
  $(id).addEventListener("submit", (event) => {
    event.preventDefault();
    act(action);
  });
}

$("id_login").addEventListener("click", async () => {
  showError(null);
  await providersListed; // "Sign in" may show (after signet.me()) before the list is in
  showProviders();
  $("id_passkey_signin").hidden = !window.PublicKeyCredential;
  if (providers.some((provider) => provider.kind === "persona")) {
    $("id_signin_form").hidden = false;
    $("id_email").focus();
  }
  if (providers.some((provider) => provider.kind === "email")) {
    $("id_email_code_form").hidden = false;
    $("id_code_email").focus();
  }
});

$("id_passkey_signin").addEventListener("click", () => act(() => signet.passkeys.signIn()));

onSubmit("id_signin_form", async () => {
  const assertion = await assertionFor($("id_email").value);
  await signet.signInWithAssertion(assertion, { provider: personaName() });
});

// Signing in with a code by email: Signet mails a code and a link in one message. The link
// signs in whichever browser opens it and comes back to returnTo; this page asks for the code.
onSubmit("id_email_code_form", async () => {
  // Resolves once the mail server accepted the message.
  const sent = await signet.email.start($("id_code_email").value, { returnTo: location.pathname });
  codeSentTo = sent.email;
  const minutes = Math.round(sent.expires_in / 60);
  $("id_code_sent").textContent = `We sent a code to ${sent.email}. It works for ${minutes} ` +
    "minutes; so does the link in the same message.";
  $("id_email_code_form").hidden = true;
  $("id_code_form").hidden = false;
  $("id_code").focus();
});

$("id_code_form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!(await act(() => signet.email.verify(codeSentTo, $("id_code").value)))) {
    $("id_code").select();
  }
});

// The browser makes the passkey (asking the person to unlock the device), Signet keeps its
// public key under the name given, or one Signet picks.
onSubmit("id_add_passkey_form", async () => {
  await signet.passkeys.register({ name: $("id_passkey_name").value.trim() || undefined });
  $("id_passkey_name").value = "";
  await showPasskeys();
});

$("id_logout").addEventListener("click", () => act(() => signet.signOut()));

// Back from a provider that did not sign us in: say why, and tidy the address bar.
const signInError = new URLSearchParams(location.search).get("signet_error");
if (signInError) {
  showError(SIGN_IN_ERRORS[signInError] || "Signing in did not work. Please try again.");
  history.replaceState(null, "", location.pathname);
}

const providersListed = signet.providers().then((listed) => { providers = listed; }, () => {});
signet.onChange(showUser);
signet.me().catch((error) => {
  // 403: signed in, but the site no longer lets this account in.
  showError(error.message);
  showUser(null);
});
