// The conversation's messages on screen: the user's messages, the replies, notices; a stored
// conversation drawn from the server's messages; copy buttons; keeping the newest in view.

import { attachmentViews } from "./attachments.js";
import { actionButton, editInPlace, versionSwitcher } from "./branch-controls.js";
import { copyText } from "./clipboard.js";
import { translated } from "./i18n.js";
import { ReplyView } from "./reply-view.js";

export class MessageList {
  constructor(list, scroller) {
    this.list = list;
    this.scroller = scroller;
    this.followBottom = true;
    scroller.addEventListener("scroll", () => {
      this.followBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
    });
    // While the reader is at the bottom, growing replies keep the bottom in view.
    new MutationObserver(() => {
      if (this.followBottom) scroller.scrollTop = scroller.scrollHeight;
    }).observe(list, { childList: true, subtree: true, characterData: true });
    list.addEventListener("click", (event) => {
      const button = event.target.closest("[data-copy-code]");
      if (button) copyCode(button);
    });
  }

  get isEmpty() {
    return !this.list.querySelector(".message");
  }

  clear() {
    this.list.replaceChildren();
    this.followBottom = true;
  }

  addUserMessage(text, attachments = []) {
    const item = document.createElement("li");
    item.className = "message user";
    const who = translated(document.createElement("span"), "you");
    who.className = "visually-hidden";
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = text;
    item.append(who);
    if (attachments.length > 0) item.append(attachmentViews(attachments));
    item.append(bubble);
    this.followBottom = true;
    this.list.append(item);
    return item;
  }

  addReply() {
    const reply = new ReplyView();
    this.list.append(reply.element);
    return reply;
  }

  /** A line from the page itself (not from the model), such as "your session timed out". */
  addNotice(messageKey) {
    const item = document.createElement("li");
    item.className = "notice";
    // The alert is inside the item: a list item keeps its role, so the list stays a list.
    const text = document.createElement("p");
    text.setAttribute("role", "alert");
    item.append(translated(text, messageKey));
    this.list.append(item);
    return item;
  }

  /**
   * Draws a stored conversation. A reply is every message from one user message to the
   * next: assistant messages (text and tool calls) and the tool results between them.
   * Returns the replies' views, the last one last.
   */
  showHistory(messages) {
    this.clear();
    let reply = null;
    let last = null;
    for (const message of messages) {
      const text = message.text ?? "";
      if (message.role === "user" && !isToolResults(message)) {
        reply?.finish();
        reply = null;
        const files = (message.content ?? []).filter((block) => block.type === "attachment").map((block) => block.attachment);
        this.addUserMessage(text, files);
        continue;
      }
      reply ??= this.addReply();
      for (const block of message.content ?? []) {
        if (block.type === "text") reply.appendText(block.text);
        else if (block.type === "tool_use") reply.addToolCall({ id: block.id, name: block.name, input: block.input });
        else if (block.type === "tool_result") {
          reply.setToolResult({ id: block.tool_use_id, ok: !block.is_error, summary: summarize(block.content) });
        }
      }
      if (message.role === "assistant") {
        // Which model answered is stored; which one was asked for is not (no fallback to show).
        reply.setMeta({ model: message.model, usage: message.usage, cost: message.cost_usd });
        last = { reply, status: message.status };
      }
    }
    if (reply) {
      if (last?.reply === reply && last.status === "error") reply.fail("replyFailed");
      else reply.finish({ incomplete: last?.reply === reply && last.status === "partial" });
    }
    this.followBottom = true;
    this.scroller.scrollTop = this.scroller.scrollHeight;
    return reply;
  }

  /**
   * Gives the shown conversation the controls of its branches, from the server's `messages`
   * (the branch on screen): each question an Edit button, the last reply Regenerate, and
   * every message with other versions "‹ 2 / 3 ›". `actions` has `edit(id, text)`,
   * `regenerate(id)` and `switchTo(id)`. Does nothing when the screen shows something else.
   */
  annotate(messages, actions) {
    const turns = [];
    for (const message of messages) {
      if (message.role === "user" && !isToolResults(message)) {
        turns.push({ kind: "user", first: message });
      } else if (turns.at(-1)?.kind === "reply") {
        turns.at(-1).last = message;
      } else {
        turns.push({ kind: "reply", first: message, last: message });
      }
    }
    const items = [...this.list.querySelectorAll(".message")];
    const matches = items.length === turns.length && turns.every((turn, i) => items[i].classList.contains(turn.kind === "user" ? "user" : "reply"));
    if (!matches) return;
    turns.forEach((turn, i) => {
      const item = items[i];
      item.querySelector(".message-actions")?.remove();
      item.dataset.messageId = turn.first.id;
      const controls = document.createElement("div");
      controls.className = "message-actions";
      if (turn.first.branch) controls.append(versionSwitcher(turn.first.branch, actions.switchTo));
      if (turn.kind === "user") {
        const text = turn.first.text ?? "";
        controls.append(actionButton("editMessage", "edit-message", () => editInPlace(item, text, (edited) => actions.edit(turn.first.id, edited))));
        item.append(controls);
      } else {
        if (i === turns.length - 1) controls.append(actionButton("regenerate", "regenerate", () => actions.regenerate(turn.last.id)));
        if (controls.childElementCount > 0) item.querySelector(".reply-body").append(controls);
      }
    });
  }

  /** Removes the message with `messageId` from the screen, and everything after it. */
  removeFrom(messageId) {
    const item = [...this.list.querySelectorAll(".message")].find((element) => element.dataset.messageId === messageId);
    if (!item) return false;
    while (item.nextSibling) item.nextSibling.remove();
    item.remove();
    return true;
  }

  /** Whether the last thing shown is a user message still waiting for its reply. */
  get awaitsReply() {
    const messages = this.list.querySelectorAll(".message");
    return messages.length > 0 && messages[messages.length - 1].classList.contains("user");
  }
}

/** Whether a stored user message only carries tool results (the model's tools answering). */
export function isToolResults(message) {
  const blocks = message.content ?? [];
  return message.role === "user" && blocks.length > 0 && blocks.every((block) => block.type === "tool_result");
}

/** A stored tool result as a short line, like the live `tool_result` summary. */
function summarize(content) {
  const text = String(content ?? "").replace(/\s+/g, " ").trim();
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

async function copyCode(button) {
  const code = button.closest(".code-block")?.querySelector("code")?.textContent ?? "";
  await copyText(button, code, "copy");
}
