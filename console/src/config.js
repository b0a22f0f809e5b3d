// The runtime configuration: `/config.json`, answered by `load-manager serve` locally and written
// next to the files at deploy in AWS. The same static files thus run anywhere.
//   { "apiBase": "",            where the API is ("" = this origin; /v1/* lives there)
//     "auth": { "mode": "none" } or, in AWS, the Cognito settings (see auth.js) }
const DEFAULTS = { apiBase: '', auth: { mode: 'none' } };

export async function loadConfig() {
  const response = await fetch('/config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`/config.json answered ${response.status}`);
  return { ...DEFAULTS, ...(await response.json()) };
}
