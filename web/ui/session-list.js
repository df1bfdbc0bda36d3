// The sidebar's list of past conversations from the server (title, time), a page at a time
// with "Show more": opening one, renaming one in place, deleting one after the user confirms,
// and searching them (the search box shows matches, each with the text around its match).

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
  constructor({ list, empty, noMatch, more, dialog, search, fetchPage, fetchMatches, onOpen, onDelete, onRename }) {
    this.list = list;
    this.empty = empty;
    this.noMatch = noMatch;
    this.more = more;
    this.dialog = dialog;
    this.fetchPage = fetchPage;
    this.fetchMatches = fetchMatches;
    this.onOpen = onOpen;
    this.onDelete = onDelete;
    this.onRename = onRename;
    this.query = ""; // what the search box asks for; "" lists every conversation
    this.renaming = false; // while a title is being edited the list is not redrawn under it
    let typing = null;
    search.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => {
        this.query = search.value.trim();
        this.refresh();
      }, 250);
    });
    this.sessions = [];
    this.cursor = null; // where the next page starts; null when there is none
    this.currentId = null;
    this.request = 0; // only the latest request's answer is shown
    more.addEventListener("click", () => this.loadMore());
  }

  /** Loads the list again, as many conversations as it showed (at least a page), or the search's matches. */
  async refresh() {
    if (this.renaming) return;
    const request = ++this.request;
    if (this.query) {
      let matches;
      try {
        matches = (await this.fetchMatches(this.query)).sessions;
      } catch {
        return;
      }
      if (request === this.request) this.show(matches, null);
      return;
    }
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
    this.empty.hidden = this.sessions.length > 0 || this.query !== "";
    this.noMatch.hidden = this.sessions.length > 0 || this.query === "";
    this.more.hidden = !cursor;
    this.markCurrent(this.currentId);
    if (focused) this.itemOf(focused.id)?.querySelector(`.${focused.className}`)?.focus();
  }

  /** The conversation and the control of it that has focus: {id, className}, or null. */
  focusedControl() {
    const control = document.activeElement;
    const item = this.list.contains(control) ? control.closest("[data-session-id]") : null;
    if (!item) return null;
    const className = ["session-delete", "session-rename"].find((name) => control.classList.contains(name)) ?? "session-open";
    return { id: item.dataset.sessionId, className };
  }

  itemOf(id) {
    return [...this.list.children].find((item) => item.dataset.sessionId === id) ?? null;
  }

  markCurrent(id) {
    this.currentId = id;
    for (const item of this.list.children) {
      const open = item.querySelector(".session-open");
      if (!open) continue; // being renamed
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
    if (session.snippet) {
      const snippet = document.createElement("span");
      snippet.className = "session-snippet";
      snippet.textContent = session.snippet;
      open.append(snippet);
    }
    open.addEventListener("click", () => this.onOpen(session.id));

    const rename = this.controlButton("session-rename", "renameConversation", "pencil", session);
    rename.addEventListener("click", () => this.startRename(session, item));

    const remove = this.controlButton("session-delete", "deleteConversation", "trash", session);
    remove.addEventListener("click", () => this.confirmDelete(session, remove));

    item.append(open, rename, remove);
    return item;
  }

  /** An icon button of a conversation, labelled with `key` and its title. */
  controlButton(className, key, iconName, session) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = `${className} icon-button`;
    button.dataset.i18nAriaLabel = key;
    button.dataset.i18nTitle = key;
    button.dataset.i18nArgs = JSON.stringify({ title: session.title || t("untitled") });
    button.setAttribute("aria-label", t(key, { title: session.title || t("untitled") }));
    button.title = button.getAttribute("aria-label");
    button.append(icon(iconName));
    return button;
  }

  /** Swaps the title for a text field: Enter saves, Escape (or leaving it) keeps the old title. */
  startRename(session, item) {
    const field = document.createElement("input");
    field.type = "text";
    field.className = "session-title-field";
    field.value = session.title;
    field.maxLength = 200;
    field.setAttribute("aria-label", t("conversationTitle"));
    let done = false;
    this.renaming = true;
    const finish = async (save) => {
      if (done) return;
      done = true;
      const title = field.value.trim();
      if (save && title && title !== session.title) {
        try {
          const renamed = await this.onRename(session.id, title);
          session.title = renamed.title;
        } catch {
          // The old title stays.
        }
      }
      this.renaming = false;
      this.show(this.sessions);
      this.itemOf(session.id)?.querySelector(".session-rename")?.focus();
    };
    field.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        finish(true);
      } else if (event.key === "Escape") {
        event.preventDefault();
        finish(false);
      }
    });
    field.addEventListener("blur", () => finish(false));
    item.replaceChildren(field);
    field.focus();
    field.select();
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
