// The sidebar's list of past conversations from the server (title, time): opening one, and
// deleting one after the user confirms.

import { formatTime, t, translated } from "./i18n.js";
import { icon } from "./icons.js";

export class SessionList {
  /**
   * `list` is the `<ul>`, `empty` the "no conversations" line, `dialog` the confirmation
   * `<dialog>`; `onOpen(id)` and `onDelete(id)` do the work.
   */
  constructor({ list, empty, dialog, onOpen, onDelete }) {
    this.list = list;
    this.empty = empty;
    this.dialog = dialog;
    this.onOpen = onOpen;
    this.onDelete = onDelete;
    this.sessions = [];
    this.currentId = null;
  }

  show(sessions) {
    this.sessions = sessions;
    this.list.replaceChildren(...sessions.map((session) => this.item(session)));
    this.empty.hidden = sessions.length > 0;
    this.markCurrent(this.currentId);
  }

  markCurrent(id) {
    this.currentId = id;
    for (const item of this.list.children) {
      const open = item.querySelector(".session-open");
      if (item.dataset.sessionId === id) open.setAttribute("aria-current", "page");
      else open.removeAttribute("aria-current");
    }
  }

  /** Re-draws the times (their format follows the language). */
  refreshTimes() {
    this.show(this.sessions);
  }

  item(session) {
    const item = document.createElement("li");
    item.className = "session";
    item.dataset.sessionId = session.id;

    const open = document.createElement("button");
    open.type = "button";
    open.className = "session-open";
    const title = document.createElement("span");
    title.className = "session-title";
    if (session.title) title.textContent = session.title;
    else translated(title, "untitled");
    const time = document.createElement("time");
    time.className = "session-time";
    time.dateTime = session.updated_at;
    time.textContent = formatTime(session.updated_at);
    open.append(title, time);
    open.addEventListener("click", () => this.onOpen(session.id));

    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "session-delete icon-button";
    remove.dataset.i18nAriaLabel = "deleteConversation";
    remove.dataset.i18nTitle = "deleteConversation";
    remove.dataset.i18nArgs = JSON.stringify({ title: session.title || t("untitled") });
    remove.setAttribute("aria-label", t("deleteConversation", { title: session.title || t("untitled") }));
    remove.title = remove.getAttribute("aria-label");
    remove.append(icon("trash"));
    remove.addEventListener("click", () => this.confirmDelete(session, remove));

    item.append(open, remove);
    return item;
  }

  async confirmDelete(session, returnFocusTo) {
    const body = this.dialog.querySelector("[data-dialog-body]");
    translated(body, "confirmDeleteBody", { title: session.title || t("untitled") });
    const confirmed = await new Promise((resolve) => {
      this.dialog.addEventListener("close", () => resolve(this.dialog.returnValue === "delete"), { once: true });
      this.dialog.returnValue = "";
      this.dialog.showModal();
    });
    if (confirmed) await this.onDelete(session.id);
    else returnFocusTo.focus();
  }
}
