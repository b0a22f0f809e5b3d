// A page's <h1>: sets the document title, and takes the focus after an in-app navigation so that
// screen-reader and keyboard users start on the new page (not on the link they followed).
import { html, useEffect, useRef } from '../../vendor/preact.js';

let firstPage = true;

export function PageHeading({ title, children }) {
  const heading = useRef();
  useEffect(() => {
    document.title = `${title} · Load Manager`;
  }, [title]);
  useEffect(() => {
    if (!firstPage) heading.current?.focus();
    firstPage = false;
  }, []);
  return html`<h1 ref=${heading} tabindex="-1">${children ?? title}</h1>`;
}
