// The sign-in screen and the signed-in user in the sidebar, when the server asks callers to
// sign in. Offers what the server accepts: its identity provider's sign-in page (OIDC), an
// API key, or both. A 401 from any request brings the screen back; the message being
// typed is kept (in this tab's sessionStorage while the page goes to the provider and back).
//
// With `auth.mode=none` nothing here shows: `document.body.dataset.auth` is "none".

import * as api from "./api.js";
import { Auth, SignInError, jwtClaims, keepDraft, pageAddress } from "./auth.js";
import { language, onLanguageChange, setLanguage, translated } from "./i18n.js";
import { remember } from "./storage.js";

const $ = (id) => document.getElementById(id);

export class SignIn {
  /**
   * `draft()` gives the text in the message box (kept across a sign-in); `onSignedInAgain(me)`
   * runs when the user signs in again after the page had to ask (the page reloads its data).
   */
  constructor({ draft, onSignedInAgain }) {
    this.auth = new Auth();
    this.draft = draft;
    this.onSignedInAgain = onSignedInAgain;
    this.me = null;
    this.started = false; // the first sign-in is done (start() resolved)
    this.resolveStart = null;
    this.dialog = $("sign-in");
    this.keyForm = $("sign-in-key");
    this.keyInput = $("api-key-input");
    this.providerButton = $("sign-in-oidc");
    this.error = $("sign-in-error");
    this.languagePicker = $("sign-in-language");

    this.providerButton.addEventListener("click", () => this.signInWithProvider());
    this.keyForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.signInWithKey();
    });
    $("sign-out").addEventListener("click", () => this.signOut());
    // The screen stays until the user has signed in: Escape does not close it (`closedby="none"`
    // in the HTML; browsers without it get a cancel that is prevented, or else it opens again).
    this.dialog.addEventListener("cancel", (event) => event.preventDefault());
    this.dialog.addEventListener("close", () => {
      if (!this.isSignedOut) return;
      this.dialog.showModal();
      this.focusFirst();
    });
    this.languagePicker.addEventListener("change", () => setLanguage(this.languagePicker.value));
    onLanguageChange(() => {
      this.languagePicker.value = language();
    });
    // A reload while the screen shows keeps the unsent message too.
    window.addEventListener("pagehide", () => {
      if (this.isSignedOut) keepDraft(this.draft());
    });
  }

  get isSignedOut() {
    return document.body.dataset.auth === "signed-out";
  }

  /**
   * Resolves once the page may call the API: at once when the server asks nobody to sign in
   * (with null), else when the user is signed in (with `/api/me`'s answer). A sign-in that
   * goes to the identity provider leaves the page; it comes back to a new page.
   */
  async start() {
    const { auth } = this;
    api.useAuth({
      authorization: () => auth.authorization(),
      unauthorized: () => this.signedOut(),
    });
    auth.onExpired = () => this.signedOut();
    try {
      await auth.loadConfig();
    } catch {
      // The server is out of reach: the page says so where it needs the server. A 401 later
      // asks for the configuration again.
    }
    if (!auth.config || !auth.required) {
      if (auth.config) document.body.dataset.auth = "none";
      this.started = true;
      return null;
    }
    let problem = null;
    if (Auth.hasAuthorizationResponse()) {
      this.showBusy();
      try {
        await auth.completeSignIn();
      } catch (error) {
        if (!(error instanceof SignInError)) console.error(error);
        problem = error instanceof SignInError ? error.key : "errorSignInFailed";
      }
    } else {
      auth.restore();
    }
    if (auth.signedIn) {
      const me = await this.whoAmI();
      if (me) return this.signedIn(me);
    }
    return new Promise((resolve) => {
      this.resolveStart = resolve;
      this.signedOut({ problem, again: false });
    });
  }

  /**
   * The signed-in user, or null when the server refused the credentials (they are then
   * forgotten). When the server cannot be asked, the page goes on with what it knows.
   */
  async whoAmI() {
    try {
      return await api.getMe({ authorization: await this.auth.authorization() });
    } catch (error) {
      if (api.isUnauthorized(error) || !this.auth.signedIn) {
        this.auth.forget();
        return null;
      }
      return { id: null, name: "", method: this.auth.credentials.method === "api_key" ? "api_key" : "jwt" };
    }
  }

  signedIn(me) {
    this.me = me;
    document.body.dataset.auth = "signed-in";
    this.showAccount(me);
    if (this.dialog.open) this.dialog.close();
    this.setBusy(false);
    if (!this.started) {
      this.started = true;
      this.resolveStart?.(me);
      this.resolveStart = null;
    } else {
      this.onSignedInAgain(me);
    }
    return me;
  }

  /**
   * Shows the sign-in screen: at start (`again` false), or when the server stopped accepting
   * the user's credentials (a 401, a refresh refused). `problem` is an i18n key to show.
   */
  async signedOut({ problem = null, again = true } = {}) {
    if (this.isSignedOut && this.dialog.open) return;
    if (document.body.dataset.auth === "signing-out") return;
    this.auth.forget();
    document.body.dataset.auth = "signed-out";
    $("account").hidden = true;
    if (!this.auth.config) {
      try {
        await this.auth.loadConfig();
      } catch {
        // Shown below with what is known: nothing, so the API key form.
      }
    }
    const oidc = Boolean(this.auth.oidc);
    const apiKey = this.auth.acceptsApiKeys || !this.auth.config;
    $("sign-in-provider").hidden = !oidc;
    this.keyForm.hidden = !apiKey;
    $("sign-in-or").hidden = !(oidc && apiKey);
    translated($("sign-in-body"), again ? "signInAgainBody" : "signInBody");
    this.setBusy(false);
    this.showProblem(problem ?? (oidc || apiKey ? null : "errorSignInUnavailable"));
    this.languagePicker.value = language();
    if (!this.dialog.open) this.dialog.showModal();
    this.focusFirst();
  }

  /** Focus on the first way in: the provider's button, else the key, else the language. */
  focusFirst() {
    const control = [this.providerButton, this.keyInput].find((element) => !element.closest("[hidden]")) ?? this.languagePicker;
    control.focus();
  }

  /** While the page trades the provider's answer for tokens. */
  showBusy() {
    document.body.dataset.auth = "signing-in";
    translated($("sign-in-body"), "signingIn");
    $("sign-in-provider").hidden = true;
    $("sign-in-or").hidden = true;
    this.keyForm.hidden = true;
    this.showProblem(null);
    this.languagePicker.value = language();
    if (!this.dialog.open) this.dialog.showModal();
  }

  setBusy(busy) {
    this.dialog.setAttribute("aria-busy", String(busy));
    for (const control of [this.providerButton, this.keyInput, $("api-key-submit")]) control.disabled = busy;
  }

  showProblem(key) {
    if (key) translated(this.error, key);
    else {
      delete this.error.dataset.i18n;
      this.error.textContent = "";
    }
  }

  async signInWithProvider() {
    this.setBusy(true);
    this.showProblem(null);
    keepDraft(this.draft());
    try {
      await this.auth.beginSignIn(); // leaves the page
    } catch (error) {
      this.setBusy(false);
      this.showProblem(error instanceof SignInError ? error.key : "errorSignInFailed");
      this.providerButton.focus();
    }
  }

  async signInWithKey() {
    const key = this.keyInput.value.trim();
    if (!key) {
      this.showProblem("errorKeyMissing");
      this.keyInput.focus();
      return;
    }
    this.setBusy(true);
    this.showProblem(null);
    let me = null;
    let problem = null;
    try {
      me = await api.getMe({ authorization: `Bearer ${key}` });
    } catch (error) {
      if (api.isUnauthorized(error)) problem = "errorKeyRejected";
      else if (error instanceof api.ApiError && error.status === 429) problem = "errorRateLimited";
      else if (error instanceof TypeError) problem = "errorNetwork";
      else problem = "errorGeneric";
    }
    this.setBusy(false);
    if (!me) {
      this.showProblem(problem);
      this.keyInput.focus();
      this.keyInput.select();
      return;
    }
    this.keyInput.value = "";
    this.auth.useApiKey(key);
    this.signedIn(me);
  }

  /**
   * Forgets this tab's credentials and the unsent message, and the conversation this browser
   * had open (the next person to sign in here starts afresh); then, after a provider's
   * sign-in, goes through its sign-out page, which comes back here.
   */
  signOut() {
    document.body.dataset.auth = "signing-out";
    keepDraft(null);
    remember("sessionId", null);
    const next = this.auth.signOut();
    location.assign(next ?? pageAddress());
  }

  showAccount(me) {
    const name = displayName(me, this.auth.credentials);
    $("account-name").textContent = name;
    $("account-name").title = name;
    $("account").hidden = false;
  }
}

/**
 * The name to show. A Cognito access token carries only a user name (the server's `/api/me`
 * says that, or the subject's id); the ID token from the same sign-in has the person's name or
 * email, which people recognise better.
 */
function displayName(me, credentials) {
  const claims = credentials?.method === "oidc" ? jwtClaims(credentials.idToken) : null;
  return claims?.name || claims?.email || me.name || claims?.["cognito:username"] || me.id || "";
}
