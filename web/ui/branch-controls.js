// The controls of a conversation's branches on its messages: the pencil that edits a question
// in place, "Regenerate" on the last reply, and "‹ 2 / 3 ›" between the versions of a
// message (an edited question's, a regenerated reply's).

import { t, translated } from "./i18n.js";

/** "‹ 2 / 3 ›" for a message with siblings; `switchTo(id)` moves to the sibling chosen. */
export function versionSwitcher(branch, switchTo) {
  const box = document.createElement("div");
  box.className = "versions";
  const { position, count, siblings } = branch;
  const step = (delta, key, symbol) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "version-step";
    button.textContent = symbol;
    button.dataset.i18nAriaLabel = key;
    button.setAttribute("aria-label", t(key));
    const target = siblings[position - 1 + delta];
    button.disabled = !target;
    if (target) button.addEventListener("click", () => switchTo(target));
    return button;
  };
  const label = translated(document.createElement("span"), "versionPosition", { position, count });
  label.className = "version-position";
  box.append(step(-1, "previousVersion", "‹"), label, step(1, "nextVersion", "›"));
  return box;
}

/** A small text button (Edit, Regenerate) that calls `action`. */
export function actionButton(key, className, action) {
  const button = translated(document.createElement("button"), key);
  button.type = "button";
  button.className = className;
  button.addEventListener("click", action);
  return button;
}

/**
 * Turns the bubble of a user message into a box to edit it: Enter (or Send) sends the new
 * text with `send(text)`, Escape (or Cancel) puts the message back as it was.
 */
export function editInPlace(item, text, send) {
  const bubble = item.querySelector(".bubble");
  const actions = item.querySelector(".message-actions");
  const form = document.createElement("form");
  form.className = "edit-form";
  const box = document.createElement("textarea");
  box.className = "edit-box";
  box.value = text;
  box.rows = Math.min(8, Math.max(2, text.split("\n").length));
  box.dataset.i18nAriaLabel = "editMessageLabel";
  box.setAttribute("aria-label", t("editMessageLabel"));
  const buttons = document.createElement("div");
  buttons.className = "edit-buttons";
  const cancel = translated(document.createElement("button"), "cancel");
  cancel.type = "button";
  cancel.className = "edit-cancel";
  const submit = translated(document.createElement("button"), "sendEdit");
  submit.type = "submit";
  submit.className = "edit-send";
  buttons.append(cancel, submit);
  form.append(box, buttons);

  const close = () => {
    form.remove();
    bubble.hidden = false;
    if (actions) actions.hidden = false;
    item.querySelector(".edit-message")?.focus();
  };
  const sendIfChanged = () => {
    const edited = box.value.trim();
    if (!edited) return;
    form.remove();
    send(edited);
  };
  cancel.addEventListener("click", close);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendIfChanged();
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendIfChanged();
    }
  });
  bubble.hidden = true;
  if (actions) actions.hidden = true;
  item.append(form);
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
}
