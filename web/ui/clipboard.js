// Copying text from a button: the Clipboard API, or the old way on plain http; the button says
// "Copied" for two seconds, then its own label (`labelKey`) again.

import { translated } from "./i18n.js";

export async function copyText(button, text, labelKey) {
  let copied = false;
  try {
    await navigator.clipboard.writeText(text);
    copied = true;
  } catch {
    copied = copyWithSelection(text);
  }
  if (!copied) return;
  translated(button, "copied");
  button.classList.add("copied");
  clearTimeout(button.resetTimer);
  button.resetTimer = setTimeout(() => {
    translated(button, labelKey);
    button.classList.remove("copied");
  }, 2000);
}

/** The old way to copy, for pages without the Clipboard API (plain http). */
function copyWithSelection(text) {
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}
