// CodeMirror, loaded on demand (one vendored module, ~150 KB gzipped: only the pages that edit or
// diff import this file), and the setup our editors share: Python, line numbers, undo history,
// search, a theme with readable contrast. Tab is left to the browser, so the keyboard can always
// leave the editor (indent with Mod-] / Mod-[).
let loading;

export function loadCodeMirror() {
  loading ??= import('../vendor/codemirror.js');
  return loading;
}

/** The shared setup; `python: false` for a bundle's other text files (data, requirements.txt). */
export function pythonExtensions(cm, { label, readOnly = false, python = true }) {
  return [
    cm.lineNumbers(),
    cm.highlightActiveLineGutter(),
    cm.highlightSpecialChars(),
    cm.history(),
    cm.drawSelection(),
    cm.indentOnInput(),
    cm.syntaxHighlighting(highlightStyle(cm)),
    cm.bracketMatching(),
    cm.highlightActiveLine(),
    cm.highlightSelectionMatches(),
    cm.keymap.of([...cm.defaultKeymap, ...cm.historyKeymap, ...cm.searchKeymap]),
    python ? cm.python() : [],
    cm.indentUnit.of('    '), // PEP 8; CodeMirror's default is two spaces
    cm.EditorState.readOnly.of(readOnly),
    // tabindex: axe (and some assistive tech) only count the scroll area keyboard-reachable when
    // its content says it is focusable; a contenteditable already is, so no extra tab stop appears.
    cm.EditorView.contentAttributes.of({ 'aria-label': label, tabindex: '0' }),
    theme(cm),
  ];
}

// Token colours with ≥ 4.5:1 contrast on white and on the diff's tinted lines (CodeMirror's default
// style has a few lighter ones, e.g. the orange of f-string prefixes).
let style;
function highlightStyle(cm) {
  const t = cm.tags;
  style ??= cm.HighlightStyle.define([
    { tag: [t.keyword, t.controlKeyword, t.operatorKeyword, t.definitionKeyword, t.moduleKeyword], color: '#6d28d9' },
    { tag: [t.string, t.special(t.string), t.regexp, t.escape], color: '#9a3412' },
    { tag: t.comment, color: '#4b5563', fontStyle: 'italic' },
    { tag: [t.number, t.bool, t.null, t.atom], color: '#166534' },
    { tag: [t.definition(t.variableName), t.function(t.definition(t.variableName))], color: '#1e40af' },
    { tag: [t.className, t.definition(t.className), t.typeName], color: '#115e59' },
    { tag: [t.meta, t.annotation], color: '#854d0e' },
    { tag: t.propertyName, color: '#1e3a8a' },
    { tag: t.invalid, color: '#b91c1c' },
  ]);
  return style;
}

function theme(cm) {
  return cm.EditorView.theme({
    '&': { fontSize: '0.9rem', border: '1px solid var(--border)', borderRadius: '4px', backgroundColor: '#fff' },
    '&.cm-focused': { outline: '2px solid var(--focus)', outlineOffset: '1px' },
    '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.45' },
    '.cm-gutters': { backgroundColor: '#f3f4f6', color: '#4b5563', borderRight: '1px solid var(--border)' },
    '.cm-activeLineGutter': { backgroundColor: '#e5e7eb', color: '#111827' },
  });
}

/** API line/column (1-based, as Python reports them) to a document position. */
export function positionOf(doc, line, column) {
  const target = doc.line(Math.min(Math.max(line ?? 1, 1), doc.lines));
  return target.from + Math.min(Math.max((column ?? 1) - 1, 0), target.length);
}
