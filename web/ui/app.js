// Kaiwa's chat page: connects the page's controls to the conversation, the conversation
// list, the agent and model pickers and the language switch, signs in when the server asks
// for it, then opens the conversation the user was in (its session id survives reloads).

import * as api from "./api.js";
import { PendingFiles } from "./attachments.js";
import { takeDraft } from "./auth.js";
import { Conversation } from "./conversation.js";
import { language, onLanguageChange, setLanguage, translatePage } from "./i18n.js";
import { MessageList } from "./message-list.js";
import { SessionList } from "./session-list.js";
import { SignIn } from "./sign-in.js";
import { recall, remember } from "./storage.js";

const $ = (id) => document.getElementById(id);
const app = $("app");
const input = $("message-input");
const composer = $("composer");
const agentPicker = $("agent-picker");
const modelPicker = $("model-picker");
const languagePicker = $("language-picker");
const sidebarToggle = $("open-sidebar");
const main = document.querySelector("main");
const sendButton = $("send-button");
const stopButton = $("stop-button");

const messages = new MessageList($("messages"), $("conversation"));
const pendingFiles = new PendingFiles($("pending-files"), () => render());
const conversation = new Conversation({
  messages,
  onChange: render,
  onSessionsChanged: refreshSessions,
  restoreInput(text) {
    if (input.value.trim() === "") input.value = text;
    fitInput();
    input.focus();
  },
});
const sessions = new SessionList({
  list: $("session-list"),
  empty: $("session-empty"),
  noMatch: $("session-no-match"),
  more: $("session-more"),
  dialog: $("confirm-delete"),
  search: $("session-search"),
  fetchPage: api.listSessions,
  fetchMatches: (query) => api.searchSessions(query),
  onRename: api.renameSession,
  onOpen(id) {
    closeSidebar();
    if (id !== conversation.sessionId || conversation.isEmpty) conversation.open(id);
    input.focus();
  },
  async onDelete(id) {
    try {
      await api.deleteSession(id);
    } catch {
      // Already gone, or the server is away: the list below shows what is true.
    }
    if (id === conversation.sessionId) conversation.startNew();
    await refreshSessions();
    input.focus();
  },
});

/** Redraws what depends on the conversation's state. */
function render() {
  const busy = conversation.busy;
  // Send and stop take turns in one place: focus on the one leaving moves to the one coming.
  const hadFocus = document.activeElement === sendButton || document.activeElement === stopButton;
  sendButton.hidden = busy;
  sendButton.disabled = pendingFiles.uploading;
  stopButton.hidden = !busy;
  if (hadFocus) (busy ? stopButton : sendButton).focus();
  const showWelcome = conversation.isEmpty && !busy && !conversation.loading;
  $("welcome").hidden = !showWelcome;
  if (showWelcome) renderSuggestions();
  if (conversation.agent && agentPicker.value !== conversation.agent) agentPicker.value = conversation.agent;
  renderModelPicker();
  sessions.markCurrent(conversation.sessionId);
}

/**
 * The models the chosen agent may use, the next message's selected; hidden when there is no
 * choice (one model, or a server that does not list them). The options are only rebuilt when
 * the list changes, so that redrawing does not disturb someone using the picker.
 */
function renderModelPicker() {
  const models = conversation.modelsOf();
  const key = JSON.stringify([conversation.agent, models]);
  if (modelPicker.dataset.options !== key) {
    modelPicker.dataset.options = key;
    modelPicker.replaceChildren(
      ...models.map((name) => {
        const option = document.createElement("option");
        option.value = name;
        option.textContent = name;
        return option;
      }),
    );
  }
  modelPicker.closest("label").hidden = models.length < 2;
  const next = conversation.nextModel;
  if (next && models.includes(next) && modelPicker.value !== next) modelPicker.value = next;
}

/** The agent's suggested prompts, shown on an empty conversation; a click sends one. */
function renderSuggestions() {
  const prompts = conversation.agents.get(conversation.agent)?.suggested_prompts ?? [];
  $("suggestions").replaceChildren(
    ...prompts.map((prompt) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "suggestion";
      button.textContent = prompt;
      button.addEventListener("click", () => {
        conversation.send(prompt);
        input.focus();
      });
      item.append(button);
      return item;
    }),
  );
  $("suggestions").hidden = prompts.length === 0;
}

/** A new conversation's title is written by the model shortly after its first reply: look again then. */
let titleCheck = null;

function refreshSessions() {
  clearTimeout(titleCheck);
  titleCheck = setTimeout(() => sessions.refresh(), 4000);
  return sessions.refresh();
}

// ---- the message box ----

function fitInput() {
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, window.innerHeight * 0.4)}px`;
}

function submit() {
  if (conversation.busy || conversation.loading || input.value.trim() === "" || pendingFiles.uploading) return;
  const text = input.value;
  const attachments = pendingFiles.attachments;
  input.value = "";
  pendingFiles.clear();
  fitInput();
  conversation.send(text, attachments);
}

// ---- attaching files: the button, a drop anywhere on the conversation, a paste ----

$("attach-button").addEventListener("click", () => $("file-input").click());
$("file-input").addEventListener("change", (event) => {
  pendingFiles.add([...event.target.files]);
  event.target.value = "";
  input.focus();
});
main.addEventListener("dragover", (event) => {
  if (![...(event.dataTransfer?.types ?? [])].includes("Files")) return;
  event.preventDefault();
  main.classList.add("dropping");
});
main.addEventListener("dragleave", (event) => {
  if (!main.contains(event.relatedTarget)) main.classList.remove("dropping");
});
main.addEventListener("drop", (event) => {
  main.classList.remove("dropping");
  if (!event.dataTransfer?.files?.length) return;
  event.preventDefault();
  pendingFiles.add([...event.dataTransfer.files]);
  input.focus();
});
input.addEventListener("paste", (event) => {
  const files = [...(event.clipboardData?.files ?? [])];
  if (files.length === 0) return;
  event.preventDefault();
  pendingFiles.add(files);
});

composer.addEventListener("submit", (event) => {
  event.preventDefault();
  submit();
});
input.addEventListener("keydown", (event) => {
  // Enter sends; Shift+Enter makes a new line; Enter that confirms IME input (Japanese) does neither.
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
    event.preventDefault();
    submit();
  }
});
input.addEventListener("input", fitInput);
stopButton.addEventListener("click", () => conversation.stop());

// ---- agents and models, new conversation, language ----

agentPicker.addEventListener("change", () => {
  const agent = agentPicker.value;
  // A session keeps the agent it started with; another agent needs a new conversation.
  if (!conversation.isEmpty || conversation.busy) conversation.startNew();
  conversation.chooseAgent(agent);
});

// Another model may answer the same conversation: the pick counts from the next message.
modelPicker.addEventListener("change", () => conversation.chooseModel(modelPicker.value));

function startNewConversation() {
  closeSidebar();
  conversation.startNew();
  input.focus();
}
$("new-chat").addEventListener("click", startNewConversation);
$("new-chat-top").addEventListener("click", startNewConversation);

languagePicker.addEventListener("change", () => setLanguage(languagePicker.value));
onLanguageChange(() => {
  languagePicker.value = language();
  sessions.refreshTimes();
});

// ---- the sidebar as a drawer on phones ----
// While it is open, the rest of the page is inert (out of reach of focus and screen readers).

const phoneLayout = window.matchMedia("(max-width: 768px)");

function openSidebar() {
  app.classList.add("sidebar-open");
  $("scrim").hidden = false;
  main.inert = true;
  sidebarToggle.setAttribute("aria-expanded", "true");
  $("new-chat").focus();
}

function closeSidebar() {
  if (!app.classList.contains("sidebar-open")) return;
  app.classList.remove("sidebar-open");
  $("scrim").hidden = true;
  main.inert = false;
  sidebarToggle.setAttribute("aria-expanded", "false");
  if (phoneLayout.matches) sidebarToggle.focus();
}

// A window that grows past the phone layout shows the sidebar beside the page: no drawer.
phoneLayout.addEventListener("change", () => {
  if (!phoneLayout.matches) closeSidebar();
});

sidebarToggle.addEventListener("click", openSidebar);
$("close-sidebar").addEventListener("click", closeSidebar);
$("scrim").addEventListener("click", closeSidebar);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && app.classList.contains("sidebar-open")) closeSidebar();
});

// ---- signing in (when the server asks for it) ----

const signIn = new SignIn({
  draft: () => input.value,
  // Signed in again after a 401 (perhaps as someone else): the page loads its data again.
  onSignedInAgain: (me) => loadData(me),
});

/** Puts back the message that was being typed when the page had to sign in. */
function restoreDraft() {
  const draft = takeDraft();
  if (draft && input.value.trim() === "") {
    input.value = draft;
    fitInput();
  }
}

// ---- start ----

async function start() {
  translatePage();
  languagePicker.value = language();
  const me = await signIn.start();
  await loadData(me);
}

/** Loads the agents, the conversation the user was in and the list; `me` is who signed in (null: nobody needs to). */
async function loadData(me) {
  delete document.body.dataset.ready;
  restoreDraft();
  let agents = [];
  let defaultAgent = null;
  try {
    ({ agents, default_agent: defaultAgent } = await api.listAgents());
  } catch {
    // Without the list, the server's default agent answers.
  }
  agentPicker.replaceChildren(
    ...agents.map((agent) => {
      const option = document.createElement("option");
      option.value = agent.name;
      option.textContent = agent.display_name || agent.name;
      return option;
    }),
  );
  agentPicker.closest("label").hidden = agents.length === 0;
  const remembered = recall("agent");
  conversation.setAgents(agents, agents.some((agent) => agent.name === remembered) ? remembered : defaultAgent);

  let sessionId = recall("sessionId");
  if (me?.id) {
    // The conversation this browser had open belongs to whoever was signed in then.
    if (recall("sessionOwner") !== me.id) sessionId = null;
    remember("sessionOwner", me.id);
  }
  if (sessionId) await conversation.open(sessionId);
  else conversation.startNew();
  await refreshSessions();
  document.body.dataset.ready = "true"; // for tests and people: the page has loaded its data
  input.focus();
}

start();
