// How requests to the API are authenticated, per `config.auth.mode` (from /config.json).
//   none:    the local runtime; the API treats the caller as its default local user.
//   cognito: Cognito's hosted UI with the authorization code flow and PKCE (RFC 7636), on the
//            browser's WebCrypto. The ID token, which carries the tenant claim (custom:accountId),
//            goes to the API as `Authorization: Bearer`. Tokens live in sessionStorage: this tab
//            only, gone when it closes.
// config.auth in "cognito" mode: { domain, clientId, redirectUri?, logoutUri?, scopes? }; the
// redirect and sign-out URIs default to <origin>/auth/callback and <origin>/, and must be the
// ones the app client lists.
export const CALLBACK_PATH = '/auth/callback';
const TOKENS_KEY = 'load-manager.tokens';
const PENDING_KEY = 'load-manager.sign-in';
const EXPIRY_MARGIN_MS = 60_000; // refresh a minute early: the API must never get an expired token
const FRESH_SIGN_IN_MS = 60_000; // a 401 this soon after signing in is a set-up problem: no redirect loop

let settings = null; // null in mode "none"
let refreshing = null; // one refresh at a time, however many requests wait for it

export class AuthError extends Error {
  constructor(message, code = 'SignInFailed') {
    super(message);
    this.name = 'AuthError';
    this.code = code;
  }
}

/** Set the mode up; in "cognito" mode, finish a sign-in (on the callback URL) or start one. */
export async function configureAuth(auth) {
  const mode = auth?.mode || 'none';
  settings = null;
  if (mode === 'none') return;
  if (mode !== 'cognito') throw new Error(`Authentication mode "${mode}" is not supported by this console`);
  if (!auth.domain || !auth.clientId) {
    throw new AuthError('Sign-in is not configured: /config.json needs auth.domain and auth.clientId '
      + '(the stack parameters ConsoleAuthDomain and ConsoleClientId).', 'SignInNotConfigured');
  }
  const origin = window.location.origin;
  settings = {
    domain: auth.domain.replace(/\/+$/, ''),
    clientId: auth.clientId,
    redirectUri: auth.redirectUri || origin + CALLBACK_PATH,
    logoutUri: auth.logoutUri || `${origin}/`,
    scopes: auth.scopes?.length ? auth.scopes : ['openid', 'email', 'profile'],
  };
  if (window.location.pathname === CALLBACK_PATH) await completeSignIn(new URLSearchParams(window.location.search));
  else if (!readTokens()) await signIn();
}

/** Sign-in is on: API requests carry a token (a plain link to an API page would not). */
export const signInConfigured = () => settings !== null;

/** Headers for an API request: the ID token, refreshed first when it is about to expire. */
export async function authHeaders() {
  if (!settings) return {};
  let tokens = readTokens();
  if (!tokens) return signIn();
  if (tokens.expiresAt - Date.now() < EXPIRY_MARGIN_MS) tokens = await refresh(tokens);
  return { Authorization: `Bearer ${tokens.idToken}` };
}

/** The API answered 401: the session is over (revoked, expired); sign in again, unless we just did. */
export async function onUnauthorized() {
  const tokens = settings && readTokens();
  if (!settings || (tokens && Date.now() - tokens.obtainedAt < FRESH_SIGN_IN_MS)) return;
  sessionStorage.removeItem(TOKENS_KEY);
  await signIn();
}

/** Who is signed in ({ email, subject }), or null when nobody signs in (mode "none"). */
export function currentUser() {
  const tokens = settings && readTokens();
  if (!tokens) return null;
  const claims = jwtClaims(tokens.idToken);
  return { email: claims.email || null, subject: claims.sub };
}

/** Forget the tokens, revoke the refresh token, and end the hosted UI's session too. */
export async function signOut() {
  const tokens = readTokens();
  sessionStorage.removeItem(TOKENS_KEY);
  if (tokens?.refreshToken) {
    await post('/oauth2/revoke', { token: tokens.refreshToken, client_id: settings.clientId }).catch(() => {});
  }
  const query = new URLSearchParams({ client_id: settings.clientId, logout_uri: settings.logoutUri });
  window.location.assign(`${settings.domain}/logout?${query}`);
}

async function signIn() {
  const verifier = base64url(randomBytes(32)); // 43 characters, within RFC 7636's 43..128
  const state = base64url(randomBytes(16));
  const here = window.location;
  const returnTo = here.pathname === CALLBACK_PATH ? '/' : here.pathname + here.search + here.hash;
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ state, verifier, returnTo }));
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: settings.clientId,
    redirect_uri: settings.redirectUri,
    scope: settings.scopes.join(' '),
    state,
    code_challenge: base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
    code_challenge_method: 'S256',
  });
  window.location.assign(`${settings.domain}/oauth2/authorize?${query}`);
  return new Promise(() => {}); // the page is going away: nothing waiting on this goes on
}

async function completeSignIn(params) {
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || 'null');
  sessionStorage.removeItem(PENDING_KEY); // a code and its verifier are good for one exchange
  if (params.get('error')) {
    throw new AuthError(`Sign-in failed: ${params.get('error_description') || params.get('error')}`);
  }
  if (!pending || !params.get('code') || params.get('state') !== pending.state) {
    throw new AuthError('Sign-in failed: this answer does not match a sign-in started in this tab. '
      + 'Open the console again to sign in.', 'SignInStateMismatch');
  }
  storeTokens(await post('/oauth2/token', {
    grant_type: 'authorization_code',
    client_id: settings.clientId,
    code: params.get('code'),
    redirect_uri: settings.redirectUri,
    code_verifier: pending.verifier,
  }));
  window.history.replaceState(null, '', pending.returnTo || '/');
}

function refresh(tokens) {
  refreshing ||= post('/oauth2/token', { grant_type: 'refresh_token', client_id: settings.clientId, refresh_token: tokens.refreshToken })
    .then((fresh) => storeTokens({ refresh_token: tokens.refreshToken, ...fresh }))
    .catch(() => {
      sessionStorage.removeItem(TOKENS_KEY); // refresh token expired or revoked: sign in again
      return signIn();
    })
    .finally(() => { refreshing = null; });
  return refreshing;
}

async function post(path, fields) {
  const response = await fetch(settings.domain + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new AuthError(`Sign-in failed: ${answer.error_description || answer.error || `HTTP ${response.status}`}`);
  return answer;
}

function storeTokens(answer) {
  const claims = jwtClaims(answer.id_token);
  const tokens = {
    idToken: answer.id_token,
    refreshToken: answer.refresh_token || null,
    expiresAt: claims.exp ? claims.exp * 1000 : Date.now() + (answer.expires_in || 0) * 1000,
    obtainedAt: Date.now(),
  };
  sessionStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
  return tokens;
}

function readTokens() {
  try {
    const tokens = JSON.parse(sessionStorage.getItem(TOKENS_KEY) || 'null');
    return tokens?.idToken ? tokens : null;
  } catch {
    return null;
  }
}

function jwtClaims(token) {
  try {
    const payload = (token || '').split('.')[1] || '';
    const bytes = Uint8Array.from(atob(payload.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) || {};
  } catch {
    return {}; // not a JWT: the API will say so (401)
  }
}

function randomBytes(count) {
  return crypto.getRandomValues(new Uint8Array(count));
}

function base64url(buffer) {
  const text = String.fromCharCode(...new Uint8Array(buffer));
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
