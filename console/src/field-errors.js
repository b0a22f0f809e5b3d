// Where the API's 422s belong in a form. A request-validation 422 (`ValidationError`) lists
// `details: [{location: ["body", "criteria", "1", "metric"], message}]`; the page's fields are named
// by the same path without "body" ("criteria.1.metric"), so each message is shown at its field.
// Domain errors that name a field differently are mapped by the form that knows them (`byCode`).

/** `{ "criteria.1.metric": ["Input should be …"], … }` for an ApiError (empty for anything else). */
export function fieldErrors(error, byCode = {}) {
  const found = {};
  const add = (field, message) => (found[field] ??= []).push(message);
  if (!error) return found;
  if (Array.isArray(error.details)) {
    for (const detail of error.details) {
      const location = (detail.location || []).map(String);
      add((location[0] === 'body' ? location.slice(1) : location).join('.'), detail.message);
    }
  } else if (byCode[error.code]) {
    for (const field of [byCode[error.code](error.details || {})].flat()) add(field, error.message);
  }
  return found;
}
