// A test's load shape, saved with PATCH /v1/load-tests/{id}: its default load profile (stages of
// users over time, for runs that send no load settings of their own) and its data split (CSV files of
// the bundle whose rows each worker gets its own share of). Only what changed is sent; the API judges
// everything and its 422s are shown at the field they name (docs/how-to/load-profiles.md, worker-data.md).
import { html, useState } from '../../vendor/preact.js';
import { may } from '../access.js';
import { listRevisions, updateTest } from '../api.js';
import { fieldErrors } from '../field-errors.js';
import { useApi } from '../hooks.js';
import { FieldError, invalidProps } from './field-error.js';
import { LoadStages, describeStages, toStage, toStageRow } from './load-stages.js';
import { ErrorMessage, Notice } from './messages.js';

// A profile replaces the constant defaults: the API refuses both at once (LoadProfileConflict), so
// saving stages clears these in the same PATCH, and the form says so before it is sent.
const CONSTANT_DEFAULTS = { defaultUsers: 'default users', defaultSpawnRate: 'default spawn rate', defaultDurationSeconds: 'default duration' };
const BY_CODE = { LoadProfileConflict: () => 'defaultLoadProfile', InvalidDataSplit: () => 'dataSplit' };

const rowsOf = (test) => (test.defaultLoadProfile?.stages ?? []).map(toStageRow);
const splitText = (paths) => (paths ?? []).join('\n');
const splitPaths = (text) => text.split('\n').map((line) => line.trim()).filter(Boolean);
// Equal as the API sees them: a stage's absent spawn rate is answered as null.
const same = (a, b) => JSON.stringify(a ?? null, dropNulls) === JSON.stringify(b ?? null, dropNulls);
const dropNulls = (key, value) => (value === null && key !== '' ? undefined : value);

/** The request's errors, with every `dataSplit.N` (a path's own) gathered at the data split field. */
function formErrors(error) {
  const errors = fieldErrors(error, BY_CODE);
  for (const [field, messages] of Object.entries(errors)) {
    const line = /^dataSplit\.(\d+)$/.exec(field);
    if (line) (errors.dataSplit ??= []).push(...messages.map((message) => `line ${Number(line[1]) + 1}: ${message}`));
  }
  return errors;
}

export function LoadShape({ test, onSaved }) {
  const [rows, setRows] = useState(() => rowsOf(test));
  const [split, setSplit] = useState(() => splitText(test.dataSplit));
  const [outcome, setOutcome] = useState({ error: null, message: null });
  const editable = may('PATCH /v1/load-tests/{testId}');
  const constants = Object.keys(CONSTANT_DEFAULTS).filter((name) => test[name] != null);

  async function save(changes, message) {
    setOutcome({ error: null, message: null });
    if (!Object.keys(changes).length) return setOutcome({ error: null, message: 'Nothing changed.' });
    try {
      const updated = await updateTest(test.id, changes);
      onSaved(updated);
      if ('defaultLoadProfile' in changes) setRows(rowsOf(updated)); // what was not sent keeps its unsaved edits
      if ('dataSplit' in changes) setSplit(splitText(updated.dataSplit));
      setOutcome({ error: null, message: message(updated) });
    } catch (error) {
      setOutcome({ error, message: null });
    }
  }

  function submit(event) {
    event.preventDefault();
    const changes = {};
    const profile = rows.length ? { stages: rows.map(toStage) } : null;
    if (!same(profile, test.defaultLoadProfile)) changes.defaultLoadProfile = profile;
    if (profile) for (const name of constants) changes[name] = null;
    const paths = splitPaths(split);
    if (!same(paths, test.dataSplit ?? [])) changes.dataSplit = paths;
    save(changes, (updated) => `Load shape saved: ${updated.defaultLoadProfile ? describeStages(updated.defaultLoadProfile.stages) : 'no stages'}; `
      + `${updated.dataSplit.length ? `${updated.dataSplit.length} CSV file(s) split` : 'no data split'}.`);
  }

  const clear = () => save({ defaultLoadProfile: null }, () => 'Profile cleared: runs that send no load settings get a constant load.');
  const errors = formErrors(outcome.error);
  return html`
    <form onSubmit=${submit} data-testid="load-shape-form" aria-labelledby="load-shape-heading" noValidate>
      <h3 id="load-shape-heading">Load shape</h3>
      <fieldset class="stacked" disabled=${!editable}>
        <legend>Default load profile</legend>
        <p class="muted" data-testid="profile-summary">${test.defaultLoadProfile
          ? `Runs that send no load settings of their own follow these stages (${describeStages(test.defaultLoadProfile.stages)}).`
          : 'No stages: runs that send no load settings of their own get a constant load from the default users, spawn rate and duration above.'}
          ${' '}A run's own profile, users, spawn rate or duration replace them.</p>
        <${LoadStages} rows=${rows} onChange=${setRows} errors=${errors} form="load-shape" editable=${editable} />
        ${editable && rows.length && constants.length ? html`<p class="note" data-testid="clears-constants">
          Saving stages clears the constant ${constants.map((name) => CONSTANT_DEFAULTS[name]).join(', ')} above: a test has one or the other.</p>` : null}
      </fieldset>
      <fieldset class="stacked" disabled=${!editable}>
        <legend>Data split between workers</legend>
        <label>CSV files split between workers (one bundle path a line)
          <textarea name="dataSplit" rows="3" class="code" spellcheck="false" value=${split} placeholder="data/users.csv"
            onInput=${(event) => setSplit(event.currentTarget.value)} ...${invalidProps(errors, 'load-shape', 'dataSplit')}></textarea>
          <${FieldError} errors=${errors} form="load-shape" field="dataSplit" /></label>
        <p class="note">Each worker keeps the header line and its own share of the rows: every row is used by exactly one worker.
          A single process keeps every row. <${CsvFiles} test=${test} /></p>
      </fieldset>
      <${ErrorMessage} error=${outcome.error} title="Load shape not saved" />
      ${outcome.message ? html`<${Notice}>${outcome.message}</${Notice}>` : null}
      ${editable ? html`<div class="buttons">
        <button type="submit" data-testid="save-load-shape">Save load shape</button>
        ${test.defaultLoadProfile ? html`<button type="button" class="secondary" data-testid="clear-profile" onClick=${clear}>Clear the profile</button>` : null}
      </div>` : null}
    </form>`;
}

/** The CSV files the latest revision has: the paths the API will accept. */
function CsvFiles({ test }) {
  const latest = useApi(() => listRevisions(test.id, { limit: 1 }), [test.id, test.latestRevisionNumber]);
  const revision = latest.data?.items?.[0];
  if (!revision) return null;
  const csv = (revision.files ?? []).filter((file) => !file.binary && file.path.toLowerCase().endsWith('.csv')).map((file) => file.path);
  return html`<span data-testid="csv-files">${csv.length
    ? html`CSV files of revision ${revision.revisionNumber}: ${csv.map((path, i) => html`${i ? ', ' : ''}<code>${path}</code>`)}.`
    : `Revision ${revision.revisionNumber} has no CSV file.`}</span>`;
}
