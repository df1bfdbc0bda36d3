// The conversation the page shows: its session id (kept across reloads), its agent and the
// model picked for it, sending a message and following the reply, stopping it, opening a
// stored conversation, starting a new one, and the session timeout of seed 001 (408: new
// session, the text kept).

import * as api from "./api.js";
import { announce } from "./announcer.js";
import { ConnectionLostError, isSessionExpired, messageKeyForCode, messageKeyForError } from "./errors.js";
import { isToolResults } from "./message-list.js";
import { followReply, pause, reconnectDelay } from "./reply-stream.js";
import { newSessionId, recall, remember } from "./storage.js";

/** How long to wait for the stopped reply's last event before saying that it goes on. */
const STOP_GRACE_MS = 5000;

/** The user's messages in a stored conversation (not the tool results stored as user messages). */
const countUserMessages = (messages) =>
  messages.filter((message) => message.role === "user" && !isToolResults(message)).length;

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
    // agent name -> the model picked for it, null for its own (read from storage once per agent)
    this.pickedModels = new Map();
    this.following = null; // the reply being followed: {controller, reply, sessionId, started, stop}
    this.loading = false; // a stored conversation is being fetched
    // Counts what the page shows: an answer for an earlier open() or startNew() is dropped.
    this.generation = 0;
    this.acceptedMessages = 0; // the user's messages the server is known to have in this session
    this.branchActions = {
      edit: (messageId, text) => this.edit(messageId, text),
      regenerate: (messageId) => this.regenerate(messageId),
      switchTo: (messageId) => this.switchTo(messageId),
    };
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

  /** The models `agent` may use, as the server lists them (none: the server does not say). */
  modelsOf(agent = this.agent) {
    return this.agents.get(agent)?.models ?? [];
  }

  /** The model `agent` answers with unless another is picked. */
  ownModelOf(agent = this.agent) {
    return this.agents.get(agent)?.model ?? null;
  }

  /**
   * The model picked for the current agent, or null when it answers with its own. A pick
   * the agent no longer allows (the server's settings changed) is ignored.
   */
  get pickedModel() {
    const agent = this.agent;
    if (!agent) return null;
    if (!this.pickedModels.has(agent)) this.pickedModels.set(agent, recall(`model.${agent}`));
    const picked = this.pickedModels.get(agent);
    return picked && picked !== this.ownModelOf(agent) && this.modelsOf(agent).includes(picked) ? picked : null;
  }

  /** The model the next message goes to: the picked one, else the agent's own. */
  get nextModel() {
    return this.pickedModel ?? this.ownModelOf();
  }

  /**
   * Picks the model for the current agent's next messages, in this conversation and later
   * ones (remembered per agent). Picking the agent's own model forgets the pick, so that
   * the agent follows the server when its model changes there.
   */
  chooseModel(name) {
    const agent = this.agent;
    if (!agent) return;
    const picked = name && name !== this.ownModelOf(agent) ? name : null;
    this.pickedModels.set(agent, picked);
    remember(`model.${agent}`, picked);
    this.onChange();
  }

  /** A new, empty conversation with a new session id. */
  startNew() {
    this.generation += 1;
    this.detach();
    this.loading = false;
    this.sessionId = newSessionId();
    this.acceptedMessages = 0;
    remember("sessionId", this.sessionId);
    this.messages.clear();
    this.onChange();
  }

  /** Shows a stored conversation; resumes its reply if one is still being written. */
  async open(sessionId) {
    const generation = ++this.generation;
    this.detach();
    this.sessionId = sessionId;
    this.acceptedMessages = 0;
    remember("sessionId", sessionId);
    this.messages.clear();
    this.loading = true;
    this.onChange();
    let session;
    try {
      session = await api.getSession(sessionId);
    } catch (error) {
      if (generation !== this.generation) return;
      this.loading = false;
      this.messages.addNotice(messageKeyForError(error) === "errorNetwork" ? "errorNetwork" : "errorLoad");
      this.onChange();
      return;
    }
    if (generation !== this.generation) return; // opened again, or the user went elsewhere
    this.loading = false;
    if (session) {
      if (this.agents.has(session.agent)) this.agent = session.agent;
      this.acceptedMessages = countUserMessages(session.messages);
      this.messages.showHistory(session.messages);
      this.messages.annotate(session.messages, this.branchActions);
      // The user's message is stored at once, the reply when it ends: a conversation that
      // ends with the user's message has a reply still running (for instance before a reload).
      if (this.messages.awaitsReply) this.resumeRunningReply();
    }
    this.onChange();
  }

  /** Sends `text` with the uploaded files `attachments` and follows its reply. */
  async send(text, attachments = []) {
    const message = text.trim();
    if (!message || this.busy) return;
    const { sessionId, agent, generation } = this;
    // Only a picked model is sent: without one the server uses the agent's own, as it is now.
    const model = this.pickedModel;
    // What the reply should come from; another name in its `done` means a fallback answered.
    const requested = this.modelsOf(agent).length > 0 ? (model ?? this.ownModelOf(agent)) : null;
    const acceptedBefore = this.acceptedMessages;
    this.messages.addUserMessage(message, attachments);
    const reply = this.messages.addReply();
    const ids = attachments.map((file) => file.id);
    const start = async (signal) => {
      try {
        return await api.startReply({ message, sessionId, agent, model, attachments: ids }, signal);
      } catch (error) {
        const unanswered = error instanceof TypeError || error instanceof api.RequestTimeoutError;
        if (signal.aborted || !unanswered) throw error;
        return this.findSentReply({ sessionId, acceptedBefore, error, signal });
      }
    };
    const accepted = () => {
      if (generation === this.generation) this.acceptedMessages = acceptedBefore + 1;
    };
    try {
      await this.follow(reply, start, { onAccepted: accepted, requested });
    } catch (error) {
      if (isSessionExpired(error)) {
        // Seed 001 §4.3/§5: a new session id, the user told, the unsent text kept.
        this.startNew();
        this.messages.addNotice("errorSessionExpired");
        this.restoreInput(message);
        return;
      }
      reply.fail(messageKeyForError(error));
      announce("announceFailed");
      // Unless the stream broke after it began, the server did not take the message: keep it.
      if (!(error instanceof ConnectionLostError)) this.restoreInput(message);
    }
  }

  /** Sends `text` in place of the user's message `messageId`; the old one stays a version to go back to. */
  async edit(messageId, text) {
    const message = text.trim();
    if (!message || this.busy || !this.messages.removeFrom(messageId)) return;
    const { sessionId } = this;
    const model = this.pickedModel;
    this.messages.addUserMessage(message);
    await this.followBranch((signal) => api.editMessage({ sessionId, messageId, message, model }, signal), model);
  }

  /** Writes the reply `messageId` again; the old one stays a version to go back to. */
  async regenerate(messageId) {
    if (this.busy || !this.messages.removeFrom(messageId)) return;
    const { sessionId } = this;
    const model = this.pickedModel;
    await this.followBranch((signal) => api.regenerateReply({ sessionId, messageId, model }, signal), model);
  }

  async followBranch(open, model) {
    const reply = this.messages.addReply();
    const requested = this.modelsOf(this.agent).length > 0 ? (model ?? this.ownModelOf()) : null;
    try {
      await this.follow(reply, open, { requested });
    } catch (error) {
      reply.fail(messageKeyForError(error));
      announce("announceFailed");
    }
  }

  /** Shows the branch through message `messageId` (another version of a question or reply). */
  async switchTo(messageId) {
    if (this.busy) return;
    const generation = this.generation;
    let session;
    try {
      session = await api.switchBranch(this.sessionId, messageId);
    } catch (error) {
      this.messages.addNotice(messageKeyForError(error));
      return;
    }
    if (generation !== this.generation || this.busy) return;
    this.messages.showHistory(session.messages);
    this.messages.annotate(session.messages, this.branchActions);
    this.messages.list.querySelector(`[data-message-id="${CSS.escape(messageId)}"] .version-step:not(:disabled)`)?.focus();
    this.onChange();
  }

  /** Reads the conversation again to give what was just written its controls (ids, versions). */
  async refreshBranches() {
    const { sessionId, generation } = this;
    let session;
    try {
      session = await api.getSession(sessionId);
    } catch {
      return; // the controls come with the next reply or reload
    }
    if (!session || generation !== this.generation || this.busy) return;
    this.messages.annotate(session.messages, this.branchActions);
  }

  /**
   * The POST that sent a message got no answer (the connection failed, or the server took too
   * long), yet the server may have taken the message. The page made the session id, so it
   * asks for the session's reply once. Resolves with that reply's events; rejects with `error`
   * when the message did not arrive (no reply to resume), so that its text goes back.
   */
  async findSentReply({ sessionId, acceptedBefore, error, signal }) {
    await pause(reconnectDelay(1), signal);
    let events;
    try {
      events = await api.resumeReply(sessionId, 0, signal);
    } catch (resumeError) {
      if (signal.aborted) throw resumeError;
      throw error; // 404: nothing to resume, so the message never arrived (or still no connection)
    }
    if (acceptedBefore === 0) return events; // the session had no reply before: this one is ours
    // The latest reply may be the one before this message: it counts only if the message is stored.
    let session = null;
    try {
      session = await api.getSession(sessionId, signal);
    } catch {
      // Unknown: taken as not sent.
    }
    if (session && countUserMessages(session.messages) > acceptedBefore) return events;
    throw error; // (the unread stream is closed when the reply's signal aborts)
  }

  /**
   * Asks the server to stop the running reply. Only the stream's `done` with `stopped` says
   * that it stopped; until then the reply goes on showing what comes.
   */
  async stop() {
    const following = this.following;
    if (!following || following.stop) return;
    following.stop = { afterStart: false, timer: null };
    await this.requestStop(following);
  }

  async requestStop(following) {
    const { stop } = following;
    stop.afterStart = false;
    const startedBefore = following.started;
    let answer = null;
    try {
      answer = await api.stopReply(following.sessionId);
    } catch {
      // Not asked: said below.
    }
    if (this.following !== following || following.stop !== stop) return;
    if (answer && !answer.stopped && !startedBefore) {
      // The server does not have the reply yet (the message is on its way): stop it when it starts.
      if (following.started) this.requestStop(following);
      else stop.afterStart = true;
    } else if (answer) {
      // Stopped (or ending by itself): its `done` comes, or else the reply goes on.
      clearTimeout(stop.timer);
      stop.timer = setTimeout(() => this.stopDidNotHappen(following), STOP_GRACE_MS);
    } else {
      this.stopDidNotHappen(following);
    }
  }

  /** The server did not stop the reply: say it goes on, and let the user try again. */
  stopDidNotHappen(following) {
    if (this.following !== following) return;
    clearTimeout(following.stop?.timer);
    following.stop = null;
    following.reply.showNotStopped();
    announce("notStopped");
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
      if (error instanceof api.ApiError && error.status === 404) {
        reply.element.remove();
      } else {
        reply.fail(messageKeyForError(error));
        announce("announceFailed");
      }
    });
  }

  /**
   * Follows a reply's events into `reply`; `onAccepted()` runs when its `session` event shows
   * that the server has the message; `requested` is the model it was sent to, when known.
   * Throws when no stream could be had.
   */
  async follow(reply, open, { onAccepted = () => {}, requested = null } = {}) {
    this.detach(); // one reader at a time: an earlier one would go on unseen
    const controller = new AbortController();
    const following = { controller, reply, sessionId: this.sessionId, started: false, stop: null };
    this.following = following;
    this.onChange();
    // The model asked for (or the agent's own) until the reply's `done` names the one that wrote it.
    let model = requested ?? this.ownModelOf();
    let usage = null;
    try {
      const last = await followReply({
        open: () => open(controller.signal),
        resume: (lastSeq) => api.resumeReply(following.sessionId, lastSeq, controller.signal),
        signal: controller.signal,
        onReconnecting: (reconnecting) => reply.setReconnecting(reconnecting),
        onEvent: (event) => {
          switch (event.type) {
            case "session":
              following.started = true;
              onAccepted();
              if (following.stop?.afterStart) this.requestStop(following);
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
      reply.setMeta({ model, requested, usage, cost: last.type === "done" ? last.cost_usd : null });
      if (last.type === "done") {
        reply.finish({ stopped: last.stopped === true });
        announce(last.stopped === true ? "announceStopped" : "announceDone");
        this.refreshBranches();
      } else {
        reply.fail(messageKeyForCode(last.error));
        announce("announceFailed");
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
      reply.detach();
    } finally {
      clearTimeout(following.stop?.timer);
      controller.abort(); // lets go of whatever still listens to it (an unread stream)
      if (this.following === following) this.following = null;
      this.onChange();
      this.onSessionsChanged();
    }
  }
}
