// Tells screen-reader users what happened to a reply, without moving their focus: the page's
// visually hidden `role="status"` region (#announcer in index.html) is read when its text
// changes. The reply itself is not read while it grows; its end is announced here.

import { t } from "./i18n.js";

/** How long the region stays empty before the new words, so that repeated words are read again. */
const CLEAR_MS = 100;

let pending = null;

/** Announces the words for `key` in the current language. */
export function announce(key, values) {
  const region = document.getElementById("announcer");
  if (!region) return;
  clearTimeout(pending);
  region.textContent = "";
  pending = setTimeout(() => {
    region.textContent = t(key, values);
  }, CLEAR_MS);
}
