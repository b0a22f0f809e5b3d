// Preact, its hooks, and htm bound to Preact's `h`: the one UI library every page loads.
// htm gives JSX-like templates in plain JavaScript, so our own code needs no build step.
import { h, render, Fragment, createContext } from 'preact';
import htm from 'htm';

export { h, render, Fragment, createContext };
export {
  useState, useEffect, useLayoutEffect, useRef, useMemo, useCallback, useContext, useReducer, useId,
} from 'preact/hooks';
export const html = htm.bind(h);
