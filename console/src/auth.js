// How requests to the API are authenticated, per `config.auth.mode`.
//   none: the local runtime; the API treats the caller as its default local user.
// TODO(issue-10, AWS phase): mode "cognito" — the hosted UI's authorization-code flow with PKCE on
// WebCrypto; `authHeaders()` then returns the Bearer ID token, and `signIn()` starts the flow.
let mode = 'none';

export function configureAuth(authConfig) {
  mode = authConfig?.mode || 'none';
  if (mode !== 'none') throw new Error(`Authentication mode "${mode}" is not supported by this console yet`);
}

export async function authHeaders() {
  return {};
}
