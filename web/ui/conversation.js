// The conversation the page shows: its session id (kept across reloads), its agent, sending a
// message and following the reply, stopping it, opening a stored conversation, starting a
// new one, and the session timeout of seed 001 (408: new session, the text kept).

import * as api from "./api.js";
import { ConnectionLostError, isSessionExpired, messageKeyForCode, messageKeyForError } from "./errors.js";
import { followReply } from "./reply-stream.js";
import { newSessionId, remember } from "./storage.js";

/** How long to wait for the stopped reply's last event before giving up on it. */
const STOP_GRACE_MS = 5000;

export class Conversation {
  /**
   * `messages` is the MessageList; `onChange()` redraws what depends on the state;
   * `onSessionsChanged()` reloads the conversation list; `restoreInput(text)` puts unsent
   * text back in the message box.
   */
  constructor({ messages, onChange, onSessionsChanged, restoreInput }) {
    this.messages = messages;
    this.onChange = onChange;
    this.onSessionsChanged = onSessionsChanged;
    this.restoreInput = restoreInput;
    this.sessionId = null;
    this.agent = null;
    this.agents = new Map();
    this.following = null; // the reply being followed: {controller, reply, stopRequested}
    this.loading = false; // a stored conversation is being fetched
  }

  get busy() {
    return this.following !== null;
  }

  get isEmpty() {
    return this.messages.isEmpty;
  }

  setAgents(agents, chosen) {
    this.agents = new Map(agents.map((agent) => [agent.name, agent]));
    this.agent = chosen;
  }

  /** Chooses the agent for this conversation (only while it is empty) and later ones. */
  chooseAgent(name) {
    this.agent = name;
    remember("agent", name);
    this.onChange();
  }

  /** A new, empty conversation with a new session id. */
  startNew() {
    this.detach();
    this.loading = false;
    this.sessionId = newSessionId();
    remember("sessionId", this.sessionId);
    this.messages.clear();
    this.onChange();
  }

  /** Shows a stored conversation; resumes its reply if one is still being written. */
  async open(sessionId) {
    this.detach();
    this.sessionId = sessionId;
    remember("sessionId", sessionId);
    this.messages.clear();
    this.loading = true;
    this.onChange();
    let session;
    try {
      session = await api.getSession(sessionId);
    } catch (error) {
      if (this.sessionId !== sessionId) return;
      this.loading = false;
      this.messages.addNotice(messageKeyForError(error) === "errorNetwork" ? "errorNetwork" : "errorLoad");
      this.onChange();
      return;
    }
    if (this.sessionId !== sessionId) return; // the user went elsewhere meanwhile
    this.loading = false;
    if (session) {
      if (this.agents.has(session.agent)) this.agent = session.agent;
      this.messages.showHistory(session.messages);
      // The user's message is stored at once, the reply when it ends: a conversation that
      // ends with the user's message has a reply still running (for instance before a reload).
      if (this.messages.awaitsReply) this.resumeRunningReply();
    }
    this.onChange();
  }

  /** Sends `text` and follows its reply. */
  async send(text) {
    const message = text.trim();
    if (!message || this.busy) return;
    const { sessionId, agent } = this;
    this.messages.addUserMessage(message);
    const reply = this.messages.addReply();
    try {
      await this.follow(reply, (signal) => api.startReply({ message, sessionId, agent }, signal));
    } catch (error) {
      if (isSessionExpired(error)) {
        // Seed 001 §4.3/§5: a new session id, the user told, the unsent text kept.
        this.startNew();
        this.messages.addNotice("errorSessionExpired");
        this.restoreInput(message);
        return;
      }
      reply.fail(messageKeyForError(error));
      // Unless the stream broke after it began, the server did not take the message: keep it.
      if (!(error instanceof ConnectionLostError)) this.restoreInput(message);
    }
  }

  /** Asks the server to stop the running reply; the stream then ends with `done` (stopped). */
  async stop() {
    const following = this.following;
    if (!following) return;
    following.stopRequested = true;
    try {
      await api.stopReply(this.sessionId);
    } catch {
      // Ended below if the stream does not end by itself.
    }
    setTimeout(() => {
      if (this.following === following) following.controller.abort();
    }, STOP_GRACE_MS);
  }

  /** Stops following the running reply (it goes on in the server and is stored). */
  detach() {
    if (!this.following) return;
    const { controller } = this.following;
    this.following = null;
    controller.abort();
  }

  resumeRunningReply() {
    const reply = this.messages.addReply();
    const sessionId = this.sessionId;
    this.follow(reply, (signal) => api.resumeReply(sessionId, 0, signal)).catch((error) => {
      // No reply to resume (the server restarted, or it ended long ago): nothing to show.
      if (error instanceof api.ApiError && error.status === 404) reply.element.remove();
      else reply.fail(messageKeyForError(error));
    });
  }

  /** Follows a reply's events into `reply`. Throws when no stream could be had. */
  async follow(reply, open) {
    const controller = new AbortController();
    const following = { controller, reply, stopRequested: false };
    this.following = following;
    this.onChange();
    const sessionId = this.sessionId;
    // The agent's model until the reply's `done` names the one that wrote it.
    let model = this.agents.get(this.agent)?.model;
    let usage = null;
    try {
      const last = await followReply({
        open: () => open(controller.signal),
        resume: (lastSeq) => api.resumeReply(sessionId, lastSeq, controller.signal),
        signal: controller.signal,
        onReconnecting: (reconnecting) => reply.setReconnecting(reconnecting),
        onEvent: (event) => {
          switch (event.type) {
            case "session":
              this.onSessionsChanged(); // the conversation exists on the server now
              break;
            case "delta":
              reply.appendText(event.text);
              break;
            case "tool_call":
              reply.addToolCall(event);
              break;
            case "tool_result":
              reply.setToolResult(event);
              break;
            case "usage":
              usage = event;
              break;
          }
        },
      });
      if (last.type === "done" && last.model) model = last.model;
      reply.setMeta({ model, usage });
      if (last.type === "done") reply.finish({ stopped: last.stopped });
      else reply.fail(messageKeyForCode(last.error));
    } catch (error) {
      if (!controller.signal.aborted) throw error;
      if (following.stopRequested) reply.finish({ stopped: true });
      else reply.detach();
    } finally {
      if (this.following === following) this.following = null;
      this.onChange();
      this.onSessionsChanged();
    }
  }
}
