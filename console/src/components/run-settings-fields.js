// The run settings an automatic run starts with (`runSettings`: exactly POST …/runs's body). Empty
// fields are left out, so the test's defaults apply when the run starts.
import { html } from '../../vendor/preact.js';
import { FieldError, invalidProps } from './field-error.js';

const FIELDS = [
  { name: 'targetUsers', label: 'Users', type: 'number', min: 1 },
  { name: 'spawnRate', label: 'Spawn rate (users/s)', type: 'number', step: 'any' },
  { name: 'durationSeconds', label: 'Duration (s)', type: 'number', min: 1 },
  { name: 'workers', label: 'Workers', type: 'number', min: 1 },
  { name: 'revision', label: 'Revision', type: 'number', min: 1, placeholder: 'latest' },
  { name: 'targetUrl', label: 'Target URL', type: 'url' },
];

/** The run settings these fields edit (others a trigger or schedule carries, e.g. criteria, are kept as they are). */
export const RUN_SETTINGS_FIELDS = FIELDS.map((field) => field.name);

export function RunSettingsFields({ form, test, settings = {}, errors }) {
  const placeholder = { targetUsers: test.defaultUsers, spawnRate: test.defaultSpawnRate, durationSeconds: test.defaultDurationSeconds, targetUrl: test.targetUrl };
  return html`
    <fieldset class="grid-form">
      <legend>Run settings (empty: the test's defaults)</legend>
      ${FIELDS.map((field) => html`
        <label>${field.label}
          <input name=${`runSettings.${field.name}`} type=${field.type} min=${field.min} step=${field.step}
            placeholder=${field.placeholder ?? placeholder[field.name] ?? 'default'} defaultValue=${settings[field.name] ?? ''}
            ...${invalidProps(errors, form, `runSettings.${field.name}`)} />
          <${FieldError} errors=${errors} form=${form} field=${`runSettings.${field.name}`} />
        </label>`)}
    </fieldset>`;
}

/** `runSettings.*` inputs of a form as the object the API takes (numbers as numbers, empty left out). */
export function readRunSettings(form) {
  const settings = {};
  for (const field of FIELDS) {
    const value = form.elements[`runSettings.${field.name}`].value.trim();
    if (value !== '') settings[field.name] = field.type === 'number' ? Number(value) : value;
  }
  return settings;
}

/** Run settings in words: only what is set; the rest is "the test's defaults". */
export function describeRunSettings(settings) {
  const parts = [];
  if (settings?.targetUsers != null) parts.push(`${settings.targetUsers} users`);
  if (settings?.spawnRate != null) parts.push(`spawn rate ${settings.spawnRate}/s`);
  if (settings?.durationSeconds != null) parts.push(`${settings.durationSeconds} s`);
  if (settings?.workers != null) parts.push(`${settings.workers} workers`);
  if (settings?.revision != null) parts.push(`revision ${settings.revision}`);
  if (settings?.targetUrl) parts.push(settings.targetUrl);
  if (settings?.criteria) parts.push(`${settings.criteria.length} criteria of its own`);
  if (settings?.loadProfile) parts.push(`a load profile of ${settings.loadProfile.stages.length} stage(s)`);
  if (settings?.dataSplit) parts.push(settings.dataSplit.length ? `data split: ${settings.dataSplit.join(', ')}` : 'no data split');
  return parts.length ? `${parts.join(', ')}; the test's defaults for the rest` : 'the test\u2019s defaults';
}
