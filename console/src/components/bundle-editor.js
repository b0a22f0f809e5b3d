// The script editor of a test: every file of the revision's bundle as a tab (the entry locustfile
// first), text files in CodeMirror (Python highlighting for .py), binary files listed and kept as
// they are. Files can be added (typed or from this computer), removed and renamed; the whole
// snapshot is validated as you type (POST /v1/scripts/validate, errors marked in their file at line
// and column) and saved as one revision (PUT …/script with files + entryPath). A zip can replace it
// all as a new revision (PUT …/script/archive), and any revision downloads as a zip.
import { html, useEffect, useMemo, useRef, useState } from '../../vendor/preact.js';
import { currentCaller, may, roleFor } from '../access.js';
import { downloadArchive, saveScript, uploadArchive, validateScript } from '../api.js';
import { fileFromComputer, isPython, loadBundle, newTextFile, toRequest } from '../bundle.js';
import { formatDateTime, formatNumber } from '../format.js';
import { useApi, useDebouncedCallback } from '../hooks.js';
import { ErrorMessage, Loading, Notice } from './messages.js';
import { ScriptEditor } from './script-editor.js';
import { ValidationReport } from './validation-report.js';

const VALIDATE_AFTER_MS = 600;
// A caller who may not save a revision reads the bundle: editors read-only, no file tools, no save.
const mayEdit = () => may('PUT /v1/load-tests/{testId}/script');
const NONE = [];

/** Holds the revision shown: a save keeps the editors; a zip upload loads the new revision afresh. */
export function BundleEditor({ test, revision, onSaved }) {
  const [shown, setShown] = useState({ revision, notice: null });
  const bundle = useApi(() => loadBundle(test.id, shown.revision), [shown.revision.id]);
  function replaced(result, notice) {
    onSaved(result.revision);
    setShown({ revision: result.revision, notice });
  }
  return html`
    <section class="card" aria-labelledby="script-heading">
      <h2 id="script-heading">Script</h2>
      ${shown.notice ? html`<${Notice}>${shown.notice}</${Notice}>` : null}
      <${ErrorMessage} error=${bundle.error} title="Could not load the bundle's files" />
      ${bundle.data && !bundle.loading
        ? html`<${BundleForm} key=${shown.revision.id} test=${test} revision=${shown.revision} initialFiles=${bundle.data}
            onSaved=${onSaved} onReplaced=${replaced} />`
        : !bundle.error && html`<${Loading} what="Loading the script" />`}
    </section>`;
}

/** Problems a 4xx names at a file and line (a save's ScriptSyntaxError, InvalidRequirements, …). */
function problemsFrom(error) {
  const details = error?.details;
  if (!details || Array.isArray(details)) return [];
  if (Array.isArray(details.errors)) return details.errors;
  if (details.line != null) return [{ file: details.file ?? null, line: details.line, column: details.column ?? null, message: error.message }];
  return [];
}

/** The API's validation of the whole snapshot: now, and again once typing pauses. */
function useValidation(initialFiles, latest) {
  const [validation, setValidation] = useState({ report: null, error: null, checking: false });
  const checks = useRef(0);
  async function validate(list) {
    if (!may('POST /v1/scripts/validate')) return null;
    const mine = ++checks.current;
    setValidation((previous) => ({ ...previous, checking: true }));
    try {
      const report = await validateScript(toRequest(list));
      if (mine === checks.current) setValidation({ report, error: null, checking: false });
      return report;
    } catch (error) {
      if (mine === checks.current) setValidation({ report: null, error, checking: false });
      return null;
    }
  }
  const validateSoon = useDebouncedCallback(() => validate(latest.current), VALIDATE_AFTER_MS);
  useEffect(() => {
    validate(initialFiles); // the report (user classes, warnings) of what was loaded
  }, []);
  return { validation, validate, validateSoon };
}

/** Problems per file path (memoised: an editor re-marks them only when they change, not per keystroke). */
function useProblems(validation, saveError, entryPath) {
  const problems = useMemo(
    () => (validation.report ? validation.report.errors : [...problemsFrom(validation.error), ...problemsFrom(saveError)]),
    [validation, saveError],
  );
  const byPath = useMemo(() => {
    const found = {};
    for (const problem of problems) (found[problem.file ?? entryPath] ??= []).push(problem);
    return found;
  }, [problems, entryPath]);
  return { problems, problemsOf: (file) => byPath[file.path] ?? NONE };
}

/** The files being edited: which are open, and every change (which re-validates). */
function useFiles(initialFiles, onEdited) {
  const [files, setFiles] = useState(initialFiles);
  const [active, setActive] = useState(initialFiles[0].key);
  const [visited, setVisited] = useState(() => new Set([initialFiles[0].key]));
  const latest = useRef(files);
  latest.current = files;
  function update(next) {
    setFiles(next);
    latest.current = next;
    onEdited();
  }
  function open(key) {
    setActive(key);
    setVisited((now) => (now.has(key) ? now : new Set([...now, key])));
  }
  return {
    files, active, visited, latest, open,
    change: (key, patch) => update(latest.current.map((file) => (file.key === key ? { ...file, ...patch } : file))),
    add(file) {
      update([...latest.current, file]);
      open(file.key);
    },
    remove(key) {
      update(latest.current.filter((file) => file.key !== key));
      open(latest.current[0].key);
    },
  };
}

function BundleForm({ test, revision, initialFiles, onSaved, onReplaced }) {
  const [dirty, setDirty] = useState(false);
  const [saved, setSaved] = useState({ revision, message: null, error: null, busy: false });
  const editors = useRef({});
  const bundle = useFiles(initialFiles, () => {
    setDirty(true);
    setSaved((previous) => ({ ...previous, message: null, error: null }));
    checker.validateSoon();
  });
  const checker = useValidation(initialFiles, bundle.latest);
  const save = (event) => saveBundle(event, { test, files: bundle.latest.current, checker, setSaved, setDirty, onSaved });
  const { files, active } = bundle;
  const { problems, problemsOf } = useProblems(checker.validation, saved.error, files[0].path);

  function goTo(problem) {
    const file = files.find((f) => f.path === problem.file) ?? files[0];
    bundle.open(file.key);
    focusWhenReady(editors, file.key, problem.line, problem.column);
  }
  const { validation } = checker;
  const refusedPath = validation.error?.details?.path ?? saved.error?.details?.path;
  return html`
    <${RevisionLine} test=${test} revision=${saved.revision} dirty=${dirty} />
    <${FileTabs} files=${files} active=${active} onOpen=${bundle.open} problemsOf=${problemsOf} refusedPath=${refusedPath} />
    ${files.filter((file) => bundle.visited.has(file.key)).map((file) => html`
      <${FilePanel} key=${file.key} test=${test} file=${file} active=${file.key === active} bundle=${bundle}
        problems=${problemsOf(file)} control=${editorControl(editors, file.key)} />`)}
    <${ValidationReport} report=${validation.report} problems=${problems} checking=${validation.checking} onGoTo=${goTo} showFiles=${files.length > 1} />
    <${ErrorMessage} error=${problemsFrom(validation.error).length ? null : validation.error} title="Validation failed" />
    ${mayEdit() ? html`<form class="inline-form" onSubmit=${save}>
      <label>What changed <input name="description" maxlength="2000" placeholder="e.g. more browsing, fewer checkouts" /></label>
      <button type="submit" data-testid="save-revision" disabled=${saved.busy}>Save as new revision</button>
    </form>` : html`<p class="muted" data-testid="read-only-note">
      Read-only: a new revision needs the ${roleFor('PUT /v1/load-tests/{testId}/script')} role; yours is ${currentCaller()?.role}.</p>`}
    <${ErrorMessage} error=${problemsFrom(saved.error).length ? null : saved.error} title="Not saved" />
    ${saved.message ? html`<${Notice}>${saved.message}</${Notice}>` : null}
    <${BundleTools} test=${test} revision=${saved.revision} entryPath=${files[0].path} onAdd=${bundle.add} onReplaced=${onReplaced} />`;
}

/** Validate the whole snapshot, then save it as a revision with the form's description. */
async function saveBundle(event, { test, files, checker, setSaved, setDirty, onSaved }) {
  event.preventDefault();
  const form = event.currentTarget;
  setSaved((previous) => ({ ...previous, busy: true, message: null, error: null }));
  const report = await checker.validate(files);
  if (!report?.valid) return setSaved((previous) => ({ ...previous, busy: false }));
  try {
    const result = await saveScript(test.id, toRequest(files), form.elements.description.value.trim());
    form.reset();
    onSaved(result.revision);
    setDirty(false);
    setSaved({ revision: result.revision, busy: false, error: null, message: result.created
      ? `Saved as revision ${result.revision.revisionNumber}.`
      : `No change: identical to revision ${result.revision.revisionNumber}, so no revision was created.` });
  } catch (error) {
    setSaved((previous) => ({ ...previous, busy: false, error }));
  }
}

/** One file's tab panel: its path tools, then its editor (text) or what is known of it (binary). */
function FilePanel({ test, file, active, bundle, problems, control }) {
  return html`
    <div role="tabpanel" id=${`panel-${file.key}`} aria-labelledby=${`tab-${file.key}`} hidden=${!active}
      data-testid="file-panel" data-path=${file.path}>
      ${mayEdit() ? html`<${FileTools} file=${file} onRename=${(path) => bundle.change(file.key, { path })} onRemove=${() => bundle.remove(file.key)} />` : null}
      ${file.binary ? html`<${BinaryFile} file=${file} />` : html`
        <${ScriptEditor} key=${`${file.key}:${isPython(file.path)}`} initialText=${file.text} python=${isPython(file.path)} readOnly=${!mayEdit()}
          onChange=${(text) => bundle.change(file.key, { text })} problems=${problems} control=${control}
          label=${file.entry ? `Locust script of ${test.name}` : `${file.path} of ${test.name}`} testId=${file.entry ? 'script-editor' : 'file-editor'} />`}
    </div>`;
}

/** A ref-like slot per file for ScriptEditor's `control` (focusAt), kept across renders. */
function editorControl(editors, key) {
  editors.current[key] ??= { current: null };
  return editors.current[key];
}

/** The editor of a file just opened mounts (and loads) asynchronously: try until it is there. */
function focusWhenReady(editors, key, line, column, attempts = 40) {
  const control = editors.current[key]?.current;
  if (control?.focusAt(line, column)) return;
  if (attempts > 0) setTimeout(() => focusWhenReady(editors, key, line, column, attempts - 1), 50);
}

function FileTabs({ files, active, onOpen, problemsOf, refusedPath }) {
  function onKeyDown(event) {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const index = (files.findIndex((file) => file.key === active) + step + files.length) % files.length;
    onOpen(files[index].key);
    event.currentTarget.querySelector(`#tab-${files[index].key}`)?.focus();
    event.preventDefault();
  }
  return html`
    <div class="file-tabs" role="tablist" aria-label="Files of the bundle" onKeyDown=${onKeyDown}>
      ${files.map((file) => {
        const count = problemsOf(file).length;
        return html`
          <button type="button" role="tab" id=${`tab-${file.key}`} aria-selected=${String(file.key === active)} aria-controls=${`panel-${file.key}`}
            tabindex=${file.key === active ? 0 : -1} data-testid="file-tab" data-path=${file.path} data-errors=${count} onClick=${() => onOpen(file.key)}>
            ${file.path}${file.entry ? html` <span class="tag">entry</span>` : null}${file.binary ? html` <span class="tag">binary</span>` : null}
            ${count ? html` <span class="tag tag-error">${count} error${count > 1 ? 's' : ''}</span>` : null}
            ${refusedPath && refusedPath === file.path ? html` <span class="tag tag-error">path refused</span>` : null}
          </button>`;
      })}
    </div>`;
}

function FileTools({ file, onRename, onRemove }) {
  function rename(event) {
    event.preventDefault();
    const path = event.currentTarget.elements.path.value.trim();
    if (path && path !== file.path) onRename(path);
  }
  return html`
    <form class="inline-form file-tools" onSubmit=${rename} aria-label=${`File ${file.path}`}>
      <label>Path in the bundle${file.entry ? ' (the entry locustfile)' : ''}
        <input name="path" defaultValue=${file.path} key=${file.path} autocomplete="off" spellcheck="false" /></label>
      <button type="submit" class="secondary">Rename<span class="visually-hidden"> ${file.path}</span></button>
      ${file.entry ? null : html`<button type="button" class="danger" onClick=${onRemove}>Remove<span class="visually-hidden"> ${file.path}</span></button>`}
    </form>`;
}

function BinaryFile({ file }) {
  return html`
    <p class="binary-file" data-testid="binary-file">
      Binary file${file.sizeBytes != null ? `, ${formatNumber(file.sizeBytes, 0)} bytes` : ''}${file.sha256 ? html`, sha256 <code>${file.sha256.slice(0, 12)}</code>` : null}:
      kept as it is in every save; it is not shown or edited here.
    </p>`;
}

function RevisionLine({ test, revision, dirty }) {
  const base = `/tests/${encodeURIComponent(test.id)}`;
  const latest = revision.revisionNumber === test.latestRevisionNumber;
  return html`
    <p class="revision-line">
      <strong>Revision ${revision.revisionNumber}</strong>${latest ? ' (latest)' : ''} by ${revision.createdBy},
      ${' '}${formatDateTime(revision.createdAt)}${revision.description ? html` — <q>${revision.description}</q>` : null}
      ${dirty ? html` · <em>unsaved changes</em>` : null}
      ${!latest ? html`<br />You are viewing an older revision${mayEdit() ? `: saving creates revision ${test.latestRevisionNumber + 1} with this content` : ''}.
        ${' '}<a href=${base}>Open the latest</a>.` : null}
    </p>`;
}

/** Add files; replace everything with a zip (a new revision); download the shown revision as a zip. */
function BundleTools({ test, revision, entryPath, onAdd, onReplaced }) {
  function addTyped(event) {
    event.preventDefault();
    const input = event.currentTarget.elements.newPath;
    if (!input.value.trim()) return;
    onAdd(newTextFile(input.value.trim()));
    input.value = '';
  }
  async function addFromComputer(event) {
    const input = event.currentTarget; // gone from the event once it has been dispatched
    for (const picked of [...input.files]) onAdd(await fileFromComputer(picked));
    input.value = '';
  }
  return html`
    <div class="bundle-tools">
      <h3>Files and zip archives</h3>
      ${mayEdit() ? html`
        <form class="inline-form" onSubmit=${addTyped} aria-label="Add a file">
          <label>New file path <input name="newPath" placeholder="e.g. common/auth.py or data/users.csv" autocomplete="off" spellcheck="false" /></label>
          <button type="submit" class="secondary">Add file</button>
        </form>
        <label class="file-input">Add files from this computer <input type="file" multiple onChange=${addFromComputer} /></label>` : null}
      <${ZipArchives} test=${test} revision=${revision} entryPath=${entryPath} onReplaced=${onReplaced} />
    </div>`;
}

function ZipArchives({ test, revision, entryPath, onReplaced }) {
  const [outcome, setOutcome] = useState({ error: null, busy: false });
  async function upload(event) {
    event.preventDefault();
    const form = event.currentTarget.elements;
    const zip = form.zip.files[0];
    if (!zip) return;
    setOutcome({ error: null, busy: true });
    try {
      const result = await uploadArchive(test.id, zip, { description: form.zipDescription.value.trim(), entryPath: form.zipEntry.value.trim() });
      onReplaced(result, result.created ? `Uploaded ${zip.name} as revision ${result.revision.revisionNumber}.`
        : `${zip.name} is identical to revision ${result.revision.revisionNumber}: no revision was created.`);
    } catch (error) {
      setOutcome({ error, busy: false });
    }
  }
  async function download() {
    setOutcome({ error: null, busy: false });
    try {
      const { blob, filename } = await downloadArchive(test.id, revision.revisionNumber);
      const link = Object.assign(document.createElement('a'), { href: URL.createObjectURL(blob), download: filename });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (error) {
      setOutcome({ error, busy: false });
    }
  }
  return html`
    ${may('PUT /v1/load-tests/{testId}/script/archive') ? html`
      <form class="inline-form" onSubmit=${upload} aria-label="Upload a zip as a new revision">
        <label>Zip archive <input type="file" name="zip" accept=".zip,application/zip" required /></label>
        <label>Entry file in the zip <input name="zipEntry" defaultValue=${entryPath} autocomplete="off" /></label>
        <label>Description of the uploaded revision <input name="zipDescription" maxlength="2000" /></label>
        <button type="submit" class="secondary" disabled=${outcome.busy}>Upload as a new revision</button>
      </form>` : null}
    <p><button type="button" class="secondary" data-testid="download-zip" onClick=${download}>
      Download revision ${revision.revisionNumber} as a zip</button></p>
    <${ErrorMessage} error=${outcome.error} title="The archive failed" />`;
}
