// One assistant reply in the conversation: its text (Markdown) and tool calls in the order
// they came, a typing indicator until the first of them, then the model that answered (and
// whether it stood in for the one asked), token usage and cost.
// The same view shows a streaming reply and a stored one.

import { copyText } from "./clipboard.js";
import { t, translated } from "./i18n.js";
import { renderMarkdown } from "./markdown.js";
import { ToolCallView } from "./tool-call-view.js";

/** A reply's cost in US dollars to two significant digits (a reply costs fractions of a cent: 0.00012). */
function formatCost(dollars) {
  return dollars.toLocaleString("en-US", { maximumSignificantDigits: 2 });
}

/** How often a reply streaming in a hidden tab (no animation frames) is rendered. */
const HIDDEN_RENDER_MS = 500;

export class ReplyView {
  constructor() {
    this.element = document.createElement("li");
    this.element.className = "message reply";
    this.element.setAttribute("aria-busy", "true");

    const avatar = document.createElement("div");
    avatar.className = "avatar";
    avatar.setAttribute("aria-hidden", "true");
    avatar.textContent = "K";
    const who = translated(document.createElement("span"), "reply");
    who.className = "visually-hidden";

    this.body = document.createElement("div");
    this.body.className = "reply-body";
    this.parts = document.createElement("div");
    this.parts.className = "reply-parts";

    this.typing = document.createElement("div");
    this.typing.className = "typing";
    for (let i = 0; i < 3; i += 1) this.typing.append(document.createElement("span"));
    const typingLabel = translated(document.createElement("span"), "thinking");
    typingLabel.className = "visually-hidden";
    this.typing.append(typingLabel);

    this.status = document.createElement("p");
    this.status.className = "reply-status";
    this.status.hidden = true;
    this.meta = document.createElement("p");
    this.meta.className = "reply-meta";
    this.meta.hidden = true;

    // "Copy as Markdown", once the reply has ended.
    this.copy = document.createElement("button");
    this.copy.type = "button";
    this.copy.className = "copy-reply";
    translated(this.copy, "copyMarkdown");
    this.copy.hidden = true;
    this.copy.addEventListener("click", () => copyText(this.copy, this.markdown(), "copyMarkdown"));

    this.body.append(who, this.parts, this.typing, this.status, this.meta, this.copy);
    this.element.append(avatar, this.body);

    this.tools = new Map();
    this.text = null; // the text part being written: {element, source}
    this.texts = []; // every text part, in order
    this.pendingRender = null; // {cancel} of the render scheduled for the next frame
  }

  appendText(delta) {
    if (!delta) return;
    this.started();
    if (!this.text) {
      const element = document.createElement("div");
      element.className = "markdown";
      this.parts.append(element);
      this.text = { element, source: "" };
      this.texts.push(this.text);
    }
    this.text.source += delta;
    this.scheduleRender();
  }

  addToolCall(call) {
    this.started();
    this.renderText();
    this.text = null; // text after the call starts a new part
    const view = new ToolCallView(call);
    this.tools.set(call.id, view);
    this.parts.append(view.element);
  }

  setToolResult(result) {
    this.tools.get(result.id)?.setResult(result);
  }

  /**
   * The line under the reply: the model that answered, and when it is not the one asked for
   * (`requested`), that it stood in as a fallback; the tokens used; the cost when known.
   */
  setMeta({ model, requested = null, usage, cost = null }) {
    const pieces = [];
    if (model) {
      const name = document.createElement("span");
      name.className = "model-name";
      name.textContent = model;
      name.dataset.i18nTitle = "answeredBy";
      name.dataset.i18nArgs = JSON.stringify({ model });
      name.title = t("answeredBy", { model });
      pieces.push(name);
      if (requested && requested !== model) {
        const fallback = translated(document.createElement("span"), "fallbackFor", { model: requested });
        fallback.className = "model-fallback";
        pieces.push(fallback);
      }
    }
    if (usage) {
      const tokens = translated(document.createElement("span"), "usage", {
        input: usage.input_tokens ?? 0,
        output: usage.output_tokens ?? 0,
      });
      tokens.className = "usage";
      pieces.push(tokens);
    }
    if (typeof cost === "number" && Number.isFinite(cost)) {
      const price = translated(document.createElement("span"), "cost", { cost: formatCost(cost) });
      price.className = "cost";
      pieces.push(price);
    }
    this.meta.replaceChildren(...pieces);
    this.meta.hidden = pieces.length === 0;
    this.meta.dataset.model = model ?? "";
    if (requested && model && requested !== model) this.meta.dataset.fallback = "true";
    else delete this.meta.dataset.fallback;
  }

  setReconnecting(reconnecting) {
    if (reconnecting) this.showStatus("reconnecting", "reconnecting");
    else if (this.status.dataset.kind === "reconnecting") this.hideStatus();
  }

  /** The user asked to stop the reply, but the server did not stop it: it goes on. */
  showNotStopped() {
    this.showStatus("running", "notStopped");
  }

  /**
   * The reply ended: `stopped` when the server stopped it at the user's request, `incomplete`
   * when a stored reply says only that it ended early (stopped, or cut off by a failure).
   */
  finish({ stopped = false, incomplete = false } = {}) {
    this.renderText();
    this.done();
    if (stopped || incomplete) this.showStatus("stopped", stopped ? "stopped" : "incomplete");
    else this.hideStatus();
  }

  /** The reply failed; `messageKey` says why, in the user's words. */
  fail(messageKey) {
    this.renderText();
    this.done();
    this.status.setAttribute("role", "alert"); // before the text, so that it is announced
    this.showStatus("error", messageKey);
  }

  /** Stops showing progress without saying anything (the user left this reply). */
  detach() {
    this.renderText();
    this.done();
  }

  /** What the model wrote, as Markdown (its text parts; tool calls left out). */
  markdown() {
    return this.texts.map((part) => part.source.trim()).filter(Boolean).join("\n\n");
  }

  get isEmpty() {
    return this.parts.childElementCount === 0;
  }

  started() {
    this.typing.hidden = true;
  }

  done() {
    this.typing.hidden = true;
    this.element.setAttribute("aria-busy", "false");
    this.copy.hidden = this.markdown() === "";
  }

  showStatus(kind, key) {
    this.status.dataset.kind = kind;
    this.status.className = `reply-status reply-status-${kind}`;
    translated(this.status, key);
    this.status.hidden = false;
  }

  hideStatus() {
    if (this.status.dataset.kind === "error") return;
    this.status.hidden = true;
    delete this.status.dataset.kind;
  }

  // Streaming text is rendered at most once per frame, not once per chunk; a hidden tab gets
  // no frames, so there it is rendered at most every HIDDEN_RENDER_MS. The reply's end
  // renders at once.
  scheduleRender() {
    if (this.pendingRender) return;
    if (document.hidden) {
      const timer = setTimeout(() => this.renderText(), HIDDEN_RENDER_MS);
      this.pendingRender = { cancel: () => clearTimeout(timer) };
    } else {
      const frame = requestAnimationFrame(() => this.renderText());
      this.pendingRender = { cancel: () => cancelAnimationFrame(frame) };
    }
  }

  renderText() {
    this.pendingRender?.cancel();
    this.pendingRender = null;
    if (this.text) this.text.element.replaceChildren(renderMarkdown(this.text.source));
  }
}
