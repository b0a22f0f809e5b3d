// Everything the script editor and the side-by-side diff need from CodeMirror 6, as ONE module.
// Loaded with a dynamic import() by the pages that edit or diff, never on the others.
export { EditorState, Compartment } from '@codemirror/state';
export {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  highlightSpecialChars, drawSelection,
} from '@codemirror/view';
export { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
export { syntaxHighlighting, HighlightStyle, indentOnInput, indentUnit, bracketMatching } from '@codemirror/language';
export { tags } from '@lezer/highlight';
export { searchKeymap, highlightSelectionMatches } from '@codemirror/search';
export { python } from '@codemirror/lang-python';
export { setDiagnostics, lintGutter } from '@codemirror/lint';
export { MergeView } from '@codemirror/merge';
