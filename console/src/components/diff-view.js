// Two revisions side by side (CodeMirror's merge view): changed lines highlighted on both sides,
// both read-only but focusable, so the keyboard can scroll and select in them. CodeMirror owns the
// host element's children; Preact never renders into it.
import { html, useEffect, useRef, useState } from '../../vendor/preact.js';
import { loadCodeMirror, pythonExtensions } from '../codemirror-setup.js';
import { ErrorMessage, Loading } from './messages.js';

export function SideBySideDiff({ before, after, beforeLabel, afterLabel, python = true }) {
  const parent = useRef();
  const [ready, setReady] = useState(false);
  const [failure, setFailure] = useState(null);

  useEffect(() => {
    let merge;
    let cancelled = false;
    loadCodeMirror().then((cm) => {
      if (cancelled) return;
      merge = new cm.MergeView({
        parent: parent.current,
        a: { doc: before, extensions: pythonExtensions(cm, { label: beforeLabel, readOnly: true, python }) },
        b: { doc: after, extensions: pythonExtensions(cm, { label: afterLabel, readOnly: true, python }) },
        highlightChanges: true,
        gutter: true,
      });
      setReady(true);
    }, setFailure);
    return () => {
      cancelled = true;
      merge?.destroy();
    };
  }, [before, after]);

  return html`
    <div class="diff-view" data-testid="diff-view">
      <div class="diff-host" ref=${parent}></div>
      ${failure ? html`<${ErrorMessage} error=${failure} title="The diff view failed to load" />` : null}
      ${!ready && !failure ? html`<${Loading} what="Loading the diff" />` : null}
    </div>`;
}
