// The sidebar's list of past conversations from the server (title, time), a page at a time
// with "Show more": opening one, and deleting one after the user confirms.

import { formatTime, t, translated } from "./i18n.js";
import { icon } from "./icons.js";

/** Conversations asked for at a time. */
const PAGE_SIZE = 50;

export class SessionList {
  /**
   * `list` is the `<ul>`, `empty` the "no conversations" line, `more` the "Show more" button,
   * `dialog` the confirmation `<dialog>`; `fetchPage({limit, cursor})` loads a page of
   * conversations (`{sessions, next_cursor}`); `onOpen(id)` and `onDelete(id)` do the work.
   */
  constructor({ list, empty, more, dialog, fetchPage, onOpen, onDelete }) {
    this.list = list;
    this.empty = empty;
    this.more = more;
    this.dialog = dialog;
    this.fetchPage = fetchPage;
    this.onOpen = onOpen;
    this.onDelete = onDelete;
    this.sessions = [];
    this.cursor = null; // where the next page starts; null when there is none
    this.currentId = null;
    this.request = 0; // only the latest request's answer is shown
    more.addEventListener("click", () => this.loadMore());
  }

  /** Loads the list again, as many conversations as it showed (at least a page). */
  async refresh() {
    const request = ++this.request;
    const wanted = Math.max(PAGE_SIZE, this.sessions.length);
    const sessions = [];
    let cursor = null;
    try {
      do {
        const page = await this.fetchPage({ limit: PAGE_SIZE, cursor });
        if (request !== this.request) return;
        sessions.push(...page.sessions);
        cursor = page.next_cursor ?? null;
      } while (cursor && sessions.length < wanted);
    } catch {
      return; // The list stays as it was; the next reply refreshes it.
    }
    this.show(sessions, cursor);
  }

  /** Adds the next page of older conversations, and moves focus to the first of them. */
  async loadMore() {
    if (!this.cursor) return;
    const request = ++this.request;
    let page;
    try {
      page = await this.fetchPage({ limit: PAGE_SIZE, cursor: this.cursor });
    } catch {
      return;
    }
    if (request !== this.request) return;
    const focusFirstNew = this.list.contains(document.activeElement) || document.activeElement === this.more;
    const known = new Set(this.sessions.map((session) => session.id));
    const older = page.sessions.filter((session) => !known.has(session.id));
    this.show([...this.sessions, ...older], page.next_cursor ?? null);
    if (focusFirstNew && older.length > 0) this.itemOf(older[0].id)?.querySelector(".session-open").focus();
  }

  /** Shows `sessions`; `cursor` is where more start (null: none). Focus stays on the same conversation. */
  show(sessions, cursor = this.cursor) {
    const focused = this.focusedControl();
    const seen = new Set();
    this.sessions = sessions.filter((session) => !seen.has(session.id) && seen.add(session.id));
    this.cursor = cursor;
    this.list.replaceChildren(...this.sessions.map((session) => this.item(session)));
    this.empty.hidden = this.sessions.length > 0;
    this.more.hidden = !cursor;
    this.markCurrent(this.currentId);
    if (focused) this.itemOf(focused.id)?.querySelector(`.${focused.className}`)?.focus();
  }

  /** The conversation and the control of it that has focus: {id, className}, or null. */
  focusedControl() {
    const control = document.activeElement;
    const item = this.list.contains(control) ? control.closest("[data-session-id]") : null;
    if (!item) return null;
    return { id: item.dataset.sessionId, className: control.classList.contains("session-delete") ? "session-delete" : "session-open" };
  }

  itemOf(id) {
    return [...this.list.children].find((item) => item.dataset.sessionId === id) ?? null;
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
    else (this.itemOf(session.id)?.querySelector(".session-delete") ?? returnFocusTo).focus();
  }
}
