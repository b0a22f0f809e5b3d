// A test's settings (PATCH /v1/load-tests/{id}): only changed fields are sent; a field emptied
// is sent as null, which the API reads as "clear it".
import { html, useState } from '../../vendor/preact.js';
import { may } from '../access.js';
import { updateTest } from '../api.js';
import { ErrorMessage, Notice } from './messages.js';

const FIELDS = [
  { name: 'name', label: 'Name', required: true },
  { name: 'description', label: 'Description' },
  { name: 'targetUrl', label: 'Target URL', type: 'url' },
  { name: 'defaultUsers', label: 'Default users', type: 'number', min: 1, max: 100000 },
  { name: 'defaultSpawnRate', label: 'Default spawn rate (users/s)', type: 'number', min: 0.01, step: 'any' },
  { name: 'defaultDurationSeconds', label: 'Default duration (s)', type: 'number', min: 1, max: 86400 },
  { name: 'orgId', label: 'Organisation id' },
  { name: 'projectId', label: 'Project id' },
  { name: 'envId', label: 'Environment id' },
];

export function TestSettings({ test, onSaved }) {
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);

  async function submit(event) {
    event.preventDefault();
    const changes = changedFields(event.currentTarget, test);
    setError(null);
    if (!Object.keys(changes).length) return setNotice('Nothing changed.');
    try {
      onSaved(await updateTest(test.id, changes));
      setNotice('Settings saved.');
    } catch (failure) {
      setNotice(null);
      setError(failure);
    }
  }

  // A caller who may not change the test reads the same fields, disabled, with no save button.
  const editable = may('PATCH /v1/load-tests/{testId}');
  return html`
    <form class="grid-form" onSubmit=${submit}>
      ${FIELDS.map((field) => html`
        <label>${field.label}
          <input name=${field.name} type=${field.type || 'text'} required=${field.required} min=${field.min}
            max=${field.max} step=${field.step} defaultValue=${test[field.name] ?? ''} disabled=${!editable} />
        </label>`)}
      <${ErrorMessage} error=${error} title="Settings not saved" />
      ${notice ? html`<${Notice}>${notice}</${Notice}>` : null}
      ${editable ? html`<div><button type="submit">Save settings</button></div>` : null}
    </form>`;
}

function changedFields(form, test) {
  const changes = {};
  for (const { name, type } of FIELDS) {
    const raw = form.elements[name].value.trim();
    const value = raw === '' ? null : type === 'number' ? Number(raw) : raw;
    if (value !== (test[name] ?? null)) changes[name] = value;
  }
  return changes;
}
