// How a notification channel is named on screen, and who may change it (shared by its list and form).
import { hasRole, may } from '../access.js';

export const KIND_LABELS = { slack: 'Slack', teams: 'Microsoft Teams', webhook: 'Webhook (signed)' };
export const FILTER_LABELS = {
  failed: 'failed runs (verdict Failed or Error)',
  all: 'every run that ends',
  statusChange: 'runs whose verdict changed',
};

/** A test's channels are its editors' (the route's line); a scope's, its admins' (the use case asks more). */
export const mayManage = (route, testId) => may(route) && (Boolean(testId) || hasRole('admin'));

export function scopeOfChannel(channel) {
  if (channel.testId) return 'this test';
  const parts = [['org', channel.orgId], ['project', channel.projectId], ['env', channel.envId]].filter(([, v]) => v);
  return parts.length ? parts.map(([k, v]) => `${k} ${v}`).join(' / ') : 'the whole account';
}
