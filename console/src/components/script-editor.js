// The script editor: CodeMirror with Python highlighting; validation errors from the API are marked
// at their line and column (underline + gutter marker), and listed by the page.
import { html, useEffect, useRef, useState } from '../../vendor/preact.js';
import { loadCodeMirror, positionOf, pythonExtensions } from '../codemirror-setup.js';
import { ErrorMessage, Loading } from './messages.js';

/**
 * `initialText` is read once (key the component to load another text); `onChange(text)` follows
 * every edit; `problems` are the API's errors ({line, column, message}); `python: false` edits plain
 * text (a bundle's data files); `readOnly` shows it without letting it change; `control.current` gets
 * `{ focusAt(line, column) }` for the page's error list.
 */
export function ScriptEditor({ initialText, onChange, problems, label, control, python = true, readOnly = false, testId = 'script-editor' }) {
  const parent = useRef();
  const view = useRef();
  const [cm, setCm] = useState(null);
  const [failure, setFailure] = useState(null);
  const latestOnChange = useRef(onChange);
  latestOnChange.current = onChange;

  useEffect(() => {
    let cancelled = false;
    loadCodeMirror().then((loaded) => {
      if (cancelled) return;
      view.current = new loaded.EditorView({
        parent: parent.current,
        doc: initialText,
        extensions: [
          pythonExtensions(loaded, { label, python, readOnly }),
          loaded.lintGutter(),
          loaded.EditorView.updateListener.of((update) => {
            if (update.docChanged) latestOnChange.current?.(update.state.doc.toString());
          }),
        ],
      });
      setCm(loaded);
    }, setFailure);
    return () => {
      cancelled = true;
      view.current?.destroy();
    };
  }, []);

  useEffect(() => {
    if (!cm || !view.current) return;
    const { state } = view.current;
    const diagnostics = (problems || []).map((problem) => {
      const from = positionOf(state.doc, problem.line, problem.column);
      const to = Math.min(from + 1, state.doc.lineAt(from).to);
      return { from, to, severity: 'error', message: problem.message };
    });
    view.current.dispatch(cm.setDiagnostics(state, diagnostics));
  }, [cm, problems]);

  if (control) {
    control.current = {
      /** Moves the cursor there and focuses the editor; false while the editor is not there yet. */
      focusAt(line, column) {
        if (!view.current) return false;
        const anchor = positionOf(view.current.state.doc, line, column);
        view.current.dispatch({ selection: { anchor }, scrollIntoView: true });
        view.current.focus();
        return true;
      },
    };
  }

  return html`
    <div class="editor" data-testid=${testId}>
      <div class="editor-host" ref=${parent}></div>
      ${failure ? html`<${ErrorMessage} error=${failure} title="The editor failed to load" />` : null}
      ${!cm && !failure ? html`<${Loading} what="Loading the editor" />` : null}
    </div>`;
}
