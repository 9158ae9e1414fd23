// The sign-in page's one script (inline, allowed by its hash): signing in with a passkey, from
// the button or from the email field's autofill. Without it the page works as before, for
// every other way in; the button stays hidden.
import { createSignet } from "./client.js";

const button = document.getElementById("passkey");
const signet = createSignet({ baseUrl: new URL("..", location.href).href });
let autofill = null; // the autofill's pending request, given up when the button is pressed
// An autofill request that fails after this long ran out of time (its challenge lives minutes)
// and is asked for again; one that fails sooner would only fail again.
const TIMED_OUT_MS = 90_000;

function say(words) {
  let alert = document.getElementById("passkey-error");
  if (!alert) {
    alert = document.createElement("p");
    alert.id = "passkey-error";
    alert.className = "error";
    alert.setAttribute("role", "alert");
    button.before(alert);
  }
  alert.textContent = words;
}

async function signIn(options) {
  const started = Date.now();
  try {
    await signet.passkeys.signIn(options);
  } catch (error) {
    if (error.name === "SignetError") say(error.detail || error.title);
    else if (!options.conditional && error.name !== "AbortError") {
      say("No passkey signed you in: it was cancelled, or this device has none for this site.");
    } else if (error.name !== "AbortError" && Date.now() - started > TIMED_OUT_MS) {
      offerInAutofill();
    }
    return;
  }
  location.assign(button.dataset.returnTo);
}

function offerInAutofill() {
  autofill = new AbortController();
  signIn({ conditional: true, signal: autofill.signal });
}

if (window.PublicKeyCredential) {
  button.hidden = false;
  button.addEventListener("click", () => {
    autofill?.abort();
    autofill = null;
    signIn({});
  });
  const field = document.querySelector('input[autocomplete~="webauthn"]');
  if (field && (await PublicKeyCredential.isConditionalMediationAvailable?.())) {
    offerInAutofill();
  }
}
