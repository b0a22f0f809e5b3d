// A revision's bundle as the editor holds it, and back to what the API takes. A file is
// `{ key, path, binary, text }` for text (edited as a string) or `{ key, path, binary: true, content }`
// for binary (its base64 kept untouched: listed, never edited). The entry locustfile is one of them.
// Which file is binary is the API's word (`binary` in the revision's file list); only a file added
// from this computer, not yet saved, is sorted by whether its bytes are UTF-8 text without NUL.
import { getRevisionFile } from './api.js';
import { decodeBase64, encodeBase64 } from './base64.js';

let counter = 0;
const newKey = () => `file-${++counter}`;

export const isPython = (path) => /\.py$/i.test(path);

/** Every file of the revision with its content (the others fetched one by one, in parallel). */
export async function loadBundle(testId, revision) {
  const entryPath = revision.entryPath || 'locustfile.py';
  const others = (revision.files || []).filter((file) => file.path !== entryPath);
  const loaded = await Promise.all(others.map((file) => getRevisionFile(testId, revision.revisionNumber, file.path)));
  const entry = { key: newKey(), path: entryPath, binary: false, text: decodeBase64(revision.scriptContent), entry: true };
  return [entry, ...loaded.map(fromApi)];
}

function fromApi(file) {
  return file.binary
    ? { key: newKey(), path: file.path, binary: true, content: file.content, sizeBytes: file.sizeBytes, sha256: file.sha256 }
    : { key: newKey(), path: file.path, binary: false, text: decodeBase64(file.content) };
}

export const newTextFile = (path, text = '') => ({ key: newKey(), path, binary: false, text });

/** A file picked on this computer: text when its bytes are UTF-8 without NUL, else binary. */
export async function fileFromComputer(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (!text.includes('\0')) return newTextFile(file.name, text);
  } catch {
    // not UTF-8: binary
  }
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { key: newKey(), path: file.name, binary: true, content: btoa(binary), sizeBytes: bytes.length };
}

/** The body of PUT …/script and POST /v1/scripts/validate: the entry, its path, every other file. */
export function toRequest(files) {
  const entry = files.find((file) => file.entry);
  const others = files.filter((file) => !file.entry);
  return {
    scriptContent: encodeBase64(entry.text),
    entryPath: entry.path,
    ...(others.length ? { files: others.map((file) => ({ path: file.path, content: file.binary ? file.content : encodeBase64(file.text) })) } : {}),
  };
}
