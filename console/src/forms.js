// Reading a form into an API request body: empty fields are left out (the API then applies its
// defaults), number inputs become numbers, inputs are trimmed (text areas are kept as typed). No other interpretation happens here.
export function readForm(form) {
  const body = {};
  for (const element of form.elements) {
    if (!element.name || element.disabled) continue;
    if (element.type === 'checkbox') body[element.name] = element.checked;
    else if (element.value.trim() === '') continue;
    else if (element.type === 'number') body[element.name] = Number(element.value);
    else body[element.name] = element.tagName === 'TEXTAREA' ? element.value : element.value.trim();
  }
  return body;
}

/** A fresh key per submitted form: a retry of the same submission reuses it. */
export const newIdempotencyKey = () =>
  (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`);
