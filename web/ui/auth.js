// Signing in, when the server asks for it (`GET /api/auth/config`): the OpenID Connect
// authorization-code flow with PKCE against the server's identity provider (Cognito's hosted
// UI, or any OIDC provider), or a Kaiwa API key. What this page holds — tokens, a key — lives
// in memory and in this tab's sessionStorage (a reload stays signed in; closing the tab signs
// out), never in localStorage and never in a URL. Access tokens are refreshed shortly before
// they expire.
//
// No DOM here beyond the page's address: ui/sign-in.js shows the screens.

import { getAuthConfig } from "./api.js";

const CREDENTIALS_KEY = "kaiwa.auth";
const PENDING_KEY = "kaiwa.auth.pending"; // the PKCE verifier, state and nonce of a sign-in under way
const DRAFT_KEY = "kaiwa.draft"; // the message being typed when the page had to sign in

/** A sign-in's answer older than this is refused (the user waited too long at the provider). */
const PENDING_LIFETIME_MS = 30 * 60 * 1000;
/** When the token endpoint cannot be reached, it is asked again this much later (until expiry). */
const REFRESH_RETRY_MS = 10 * 1000;
/** Query parameters an authorization response adds to the page's address. */
const RESPONSE_PARAMETERS = ["code", "state", "error", "error_description", "error_uri", "session_state", "iss"];

/** A sign-in that did not work; `key` is the i18n message to show. */
export class SignInError extends Error {
  constructor(key, detail = "") {
    super(detail || key);
    this.name = "SignInError";
    this.key = key;
  }
}

// ---- sessionStorage (this tab only), which may be unavailable ----

function load(key) {
  try {
    const text = sessionStorage.getItem(key);
    return text === null ? null : JSON.parse(text);
  } catch {
    return null;
  }
}

function save(key, value) {
  try {
    if (value === null || value === undefined) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Kept in memory only: a reload asks to sign in again.
  }
}

/** Keeps the unsent message across a sign-in (which may leave the page and come back). */
export function keepDraft(text) {
  save(DRAFT_KEY, text && text.trim() !== "" ? text : null);
}

/** The message kept by `keepDraft`, once. */
export function takeDraft() {
  const text = load(DRAFT_KEY);
  save(DRAFT_KEY, null);
  return typeof text === "string" ? text : "";
}

// ---- encodings ----

function base64url(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const randomString = (size = 32) => base64url(crypto.getRandomValues(new Uint8Array(size)));

const isJWT = (token) => typeof token === "string" && /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);

/** A JWT's claims, unverified (the server verifies tokens; the page reads nonce, exp, names). */
export function jwtClaims(token) {
  if (!isJWT(token)) return null;
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part + "=".repeat((4 - (part.length % 4)) % 4)), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

/** The page's own address without query or fragment: where the provider sends the user back. */
export function pageAddress() {
  return `${location.origin}${location.pathname}`;
}

// ---- the session ----

export class Auth {
  constructor() {
    this.config = null; // GET /api/auth/config
    this.credentials = null; // {method: "oidc", accessToken, idToken, refreshToken, expiresAt, refreshAt} | {method: "api_key", key}
    this.refreshTimer = null;
    this.refreshing = null; // the refresh under way (one at a time)
    this.onExpired = () => {}; // the session could not be renewed
  }

  async loadConfig() {
    this.config = await getAuthConfig();
    return this.config;
  }

  /** Whether the server wants callers to sign in. */
  get required() {
    return Boolean(this.config && (this.config.jwt || this.config.api_key));
  }

  /** The identity provider's endpoints, when the page can sign in through it. */
  get oidc() {
    const oidc = this.config?.jwt ? this.config.oidc : null;
    return oidc?.authorization_endpoint && oidc.token_endpoint && oidc.client_id ? oidc : null;
  }

  get acceptsApiKeys() {
    return Boolean(this.config?.api_key);
  }

  get signedIn() {
    return this.credentials !== null;
  }

  /** Takes up the credentials this tab kept (a reload). */
  restore() {
    const kept = load(CREDENTIALS_KEY);
    if (kept?.method === "api_key" && typeof kept.key === "string" && this.acceptsApiKeys) this.use(kept);
    else if (kept?.method === "oidc" && typeof kept.accessToken === "string" && this.oidc) this.use(kept);
    else save(CREDENTIALS_KEY, null);
  }

  use(credentials) {
    this.credentials = credentials;
    save(CREDENTIALS_KEY, credentials);
    this.scheduleRefresh();
  }

  /** Forgets every credential of this tab. */
  forget() {
    clearTimeout(this.refreshTimer);
    this.credentials = null;
    this.refreshing = null;
    save(CREDENTIALS_KEY, null);
    save(PENDING_KEY, null);
  }

  /** The `Authorization` header's value, renewing the token first when it is due. */
  async authorization() {
    if (this.credentials?.method === "oidc" && Date.now() >= this.credentials.refreshAt) {
      await this.refresh();
    }
    const credentials = this.credentials;
    if (!credentials) return null;
    if (credentials.method === "api_key") return `Bearer ${credentials.key}`;
    // The access token when it is a JWT (Cognito's is), else the ID token.
    return `Bearer ${isJWT(credentials.accessToken) ? credentials.accessToken : credentials.idToken}`;
  }

  // ---- API keys ----

  useApiKey(key) {
    this.use({ method: "api_key", key });
  }

  // ---- OpenID Connect: authorization code with PKCE ----

  /** Sends the browser to the identity provider's sign-in page. */
  async beginSignIn() {
    const oidc = this.oidc;
    if (!oidc) throw new SignInError("errorSignInUnavailable");
    if (!crypto.subtle) throw new SignInError("errorSignInNeedsHttps");
    const verifier = randomString(48);
    const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
    const pending = { verifier, state: randomString(), nonce: randomString(), redirectUri: pageAddress(), at: Date.now() };
    save(PENDING_KEY, pending);
    if (load(PENDING_KEY)?.state !== pending.state) throw new SignInError("errorSignInStorage");
    const query = new URLSearchParams({
      response_type: "code",
      client_id: oidc.client_id,
      redirect_uri: pending.redirectUri,
      scope: oidc.scopes || "openid",
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    location.assign(`${oidc.authorization_endpoint}${oidc.authorization_endpoint.includes("?") ? "&" : "?"}${query}`);
  }

  /** Whether the page's address carries an authorization response (`code` or `error`, with `state`). */
  static hasAuthorizationResponse() {
    const query = new URLSearchParams(location.search);
    return query.has("state") && (query.has("code") || query.has("error"));
  }

  /**
   * Finishes a sign-in the provider sent back: checks `state`, trades the code (with the
   * PKCE verifier) for tokens, checks the ID token's nonce, issuer and audience. The code
   * and state leave the address bar whatever happens.
   */
  async completeSignIn() {
    const query = new URLSearchParams(location.search);
    const pending = load(PENDING_KEY);
    save(PENDING_KEY, null); // a response is used once
    const clean = new URL(location.href);
    for (const name of RESPONSE_PARAMETERS) clean.searchParams.delete(name);
    history.replaceState(history.state, "", clean.href);

    const oidc = this.oidc;
    if (!oidc) throw new SignInError("errorSignInUnavailable");
    if (!pending || pending.state !== query.get("state") || Date.now() - pending.at > PENDING_LIFETIME_MS) {
      throw new SignInError("errorSignInState");
    }
    if (query.has("error")) {
      throw new SignInError(query.get("error") === "access_denied" ? "errorSignInDenied" : "errorSignInFailed", query.get("error"));
    }
    const tokens = await this.requestTokens({
      grant_type: "authorization_code",
      client_id: oidc.client_id,
      code: query.get("code"),
      redirect_uri: pending.redirectUri,
      code_verifier: pending.verifier,
    });
    const claims = jwtClaims(tokens.id_token);
    const audiences = [].concat(claims?.aud ?? []);
    if (!claims || claims.nonce !== pending.nonce || (oidc.issuer && claims.iss !== oidc.issuer) || !audiences.includes(oidc.client_id)) {
      throw new SignInError("errorSignInFailed", "The ID token does not belong to this sign-in.");
    }
    this.use(this.credentialsFrom(tokens));
  }

  /** Renews the tokens with the refresh token; on a refusal the session is over. */
  refresh() {
    this.refreshing ??= this.renew().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  async renew() {
    const credentials = this.credentials;
    const oidc = this.oidc;
    if (credentials?.method !== "oidc") return;
    if (!credentials.refreshToken || !oidc) return this.expire();
    let tokens;
    try {
      tokens = await this.requestTokens({ grant_type: "refresh_token", client_id: oidc.client_id, refresh_token: credentials.refreshToken });
    } catch (error) {
      if (this.credentials !== credentials) return;
      if (error instanceof SignInError && error.key === "errorSignInNetwork" && Date.now() < credentials.expiresAt) {
        // The provider is out of reach for now: try again while the token still works.
        this.use({ ...credentials, refreshAt: Date.now() + REFRESH_RETRY_MS });
        return;
      }
      return this.expire();
    }
    if (this.credentials !== credentials) return; // signed out meanwhile
    let renewed;
    try {
      // Cognito sends no new refresh token: the first one goes on working.
      renewed = this.credentialsFrom({ refresh_token: credentials.refreshToken, id_token: credentials.idToken, ...tokens });
    } catch {
      return this.expire();
    }
    this.use(renewed);
  }

  expire() {
    this.forget();
    this.onExpired();
  }

  credentialsFrom(tokens) {
    if (typeof tokens.access_token !== "string" && typeof tokens.id_token !== "string") {
      throw new SignInError("errorSignInFailed", "The token endpoint sent no token.");
    }
    const now = Date.now();
    const bearer = isJWT(tokens.access_token) ? tokens.access_token : tokens.id_token;
    const exp = jwtClaims(bearer)?.exp;
    const lifetimeMs =
      Number(tokens.expires_in) > 0 ? Number(tokens.expires_in) * 1000 : typeof exp === "number" ? exp * 1000 - now : 3600 * 1000;
    // Renewed a little before it expires: a quarter of its life early, at most a minute.
    const margin = Math.min(60 * 1000, lifetimeMs / 4);
    return {
      method: "oidc",
      accessToken: tokens.access_token ?? null,
      idToken: tokens.id_token ?? null,
      refreshToken: tokens.refresh_token ?? null,
      expiresAt: now + lifetimeMs,
      refreshAt: now + lifetimeMs - margin,
    };
  }

  async requestTokens(parameters) {
    let response;
    try {
      response = await fetch(this.oidc.token_endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
        body: new URLSearchParams(parameters),
        cache: "no-store",
        credentials: "omit",
      });
    } catch {
      throw new SignInError("errorSignInNetwork");
    }
    let answer = null;
    try {
      answer = await response.json();
    } catch {
      // Not JSON: the status says enough.
    }
    if (!response.ok || !answer) throw new SignInError("errorSignInFailed", answer?.error ?? `HTTP ${response.status}`);
    return answer;
  }

  scheduleRefresh() {
    clearTimeout(this.refreshTimer);
    if (this.credentials?.method !== "oidc") return;
    // Timers in a background tab may run late: requests check the time too (authorization()).
    const delay = Math.max(0, Math.min(this.credentials.refreshAt - Date.now(), 2 ** 31 - 1));
    this.refreshTimer = setTimeout(() => this.refresh(), delay);
  }

  /**
   * Signs out: forgets this tab's credentials, and gives the identity provider's sign-out
   * address to go to next (null when there is none, or the user used an API key).
   */
  signOut() {
    const usedProvider = this.credentials?.method === "oidc";
    this.forget();
    const endpoint = this.config?.oidc?.end_session_endpoint;
    if (!usedProvider || !endpoint) return null;
    const back = pageAddress();
    // Cognito's /logout reads client_id and logout_uri; other providers post_logout_redirect_uri.
    const query = new URLSearchParams({ client_id: this.config.oidc.client_id, logout_uri: back, post_logout_redirect_uri: back });
    return `${endpoint}${endpoint.includes("?") ? "&" : "?"}${query}`;
  }
}
