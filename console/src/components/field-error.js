// A field's own error message, under the input (its id is what the input's aria-describedby names).
import { html } from '../../vendor/preact.js';

export const fieldErrorId = (form, field) => `${form}-${field.replace(/[^A-Za-z0-9_-]/g, '-')}-error`;

/** Attributes for an input whose field may carry an error. */
export function invalidProps(errors, form, field) {
  return errors[field] ? { 'aria-invalid': 'true', 'aria-describedby': fieldErrorId(form, field) } : {};
}

export function FieldError({ errors, form, field }) {
  const messages = errors[field];
  if (!messages) return null;
  return html`<span class="field-error" id=${fieldErrorId(form, field)} data-testid="field-error" data-field=${field}>${messages.join('; ')}</span>`;
}
