// Kaiwa's HTTP API as the page uses it: JSON routes, and replies as Server-Sent Events.
// The API's address comes from ui/config.js ("" = the server that served the page). When the
// server wants callers to sign in, every request carries `Authorization: Bearer …` from the
// hooks that `useAuth` installs (ui/auth.js), and a 401 answer tells them.

import { readEventStream } from "./sse.js";

const configured = (window.KAIWA_CONFIG?.apiBaseUrl ?? "").trim().replace(/\/+$/, "");
// Without a configured address, paths stay relative to the page, so Kaiwa also works
// behind a proxy that serves it under a sub-path.
const url = (path) => (configured ? `${configured}/${path}` : path);

/** How long the server may take to start answering a request. */
const RESPONSE_TIMEOUT_MS = 30000;

/** An error answer from the server: `{"error": code, "message": sentence}` with its status. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** The server wants the caller to sign in (again). */
export const isUnauthorized = (error) => error instanceof ApiError && error.status === 401;

/**
 * How requests are signed: `authorization()` gives the `Authorization` header's value (or
 * null: none), `unauthorized(error)` hears of every 401. Without authentication, neither.
 */
let auth = { authorization: async () => null, unauthorized: () => {} };

export function useAuth(hooks) {
  auth = { ...auth, ...hooks };
}

/** The server did not answer within RESPONSE_TIMEOUT_MS. */
export class RequestTimeoutError extends Error {
  constructor() {
    super("The server did not answer in time.");
    this.name = "RequestTimeoutError";
  }
}

/**
 * `fetch` that gives up when the server does not answer in time, and turns error answers
 * into `ApiError`. `signal` cancels it and, for streams, the reading that follows; call
 * `release()` once the answer has been read, so that `signal` no longer refers to it.
 */
async function request(path, { method = "GET", body, signal, accept = "application/json", authorization, quiet = false } = {}) {
  // `authorization` replaces the signed-in user's (a key being tried); `quiet` keeps a 401 to itself.
  const headers = { Accept: accept };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const credentials = authorization === undefined ? await auth.authorization() : authorization;
  if (credentials) headers.Authorization = credentials;
  const controller = new AbortController();
  const cancel = () => controller.abort(signal.reason);
  const release = () => signal?.removeEventListener("abort", cancel);
  if (signal?.aborted) cancel();
  else signal?.addEventListener("abort", cancel, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, RESPONSE_TIMEOUT_MS);
  let response;
  try {
    response = await fetch(url(path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
      cache: "no-store",
    });
  } catch (error) {
    release();
    if (timedOut) throw new RequestTimeoutError();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) {
    let answer = {};
    try {
      answer = await response.json();
    } catch {
      // Not JSON (a proxy's error page): the status says enough.
    } finally {
      release();
    }
    const error = new ApiError(response.status, answer.error ?? "", answer.message ?? "");
    if (error.status === 401 && !quiet) auth.unauthorized(error);
    throw error;
  }
  return { response, release };
}

/** A JSON route's answer (`null` for 204 No Content). */
async function call(path, options) {
  const { response, release } = await request(path, options);
  try {
    return response.status === 204 ? null : await response.json();
  } finally {
    release();
  }
}

/** A route that answers with a reply's events: they follow as an async iterable. */
async function stream(path, options) {
  const { response, release } = await request(path, { ...options, accept: "text/event-stream" });
  return events(response, release);
}

async function* events(response, release) {
  try {
    for await (const { data } of readEventStream(response.body)) {
      try {
        yield JSON.parse(data);
      } catch {
        // Not one of Kaiwa's events; skip it.
      }
    }
  } finally {
    release();
  }
}

/**
 * How callers sign in: `{mode, jwt, api_key, oidc}` (open to everyone). A server from before
 * sign-in existed has no such route: it is taken as `none`.
 */
export async function getAuthConfig() {
  try {
    return await call("api/auth/config", { authorization: null, quiet: true });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return { mode: "none", jwt: false, api_key: false, oidc: null };
    throw error;
  }
}

/**
 * Who the signed-in caller is: `{id, name, method, limits, usage}`. `authorization` asks as
 * someone else (a key being tried), and then a 401 is only thrown, not reported.
 */
export async function getMe({ authorization } = {}) {
  return call("api/me", authorization === undefined ? {} : { authorization, quiet: true });
}

export async function listAgents() {
  return call("api/agents");
}

/** One page of conversations, most recent first: `{sessions, next_cursor}` (no cursor on the last). */
export async function listSessions({ limit = 50, cursor } = {}) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (cursor) query.set("cursor", cursor);
  return call(`api/sessions?${query}`);
}

/** The caller's conversations whose title or text contains `query`, newest first, each with a `snippet`. */
export async function searchSessions(query, { limit = 50 } = {}) {
  const parameters = new URLSearchParams({ q: query, limit: String(limit) });
  return call(`api/sessions?${parameters}`);
}

/** Gives a conversation a new title; answers the conversation as listed. */
export async function renameSession(id, title) {
  return call(`api/sessions/${encodeURIComponent(id)}`, { method: "PATCH", body: { title } });
}

/**
 * One conversation with all its messages, or `null` when the server has none with this id.
 * The server sends a long conversation a page at a time, the newest first.
 */
export async function getSession(id, signal) {
  const path = `api/sessions/${encodeURIComponent(id)}`;
  let session;
  try {
    session = await call(path, { signal });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
  while (session.next_before) {
    const earlier = await call(`${path}?before=${session.next_before}`, { signal });
    session = { ...session, messages: [...earlier.messages, ...session.messages], next_before: earlier.next_before };
  }
  return session;
}

export async function deleteSession(id) {
  await call(`api/sessions/${encodeURIComponent(id)}`, { method: "DELETE" });
}

/**
 * Asks the server to stop the session's running reply: `{stopped}`. When it is true, the
 * reply's stream ends with a `done` whose `stopped` is true; false means no reply was
 * running (not yet, or no longer).
 */
export async function stopReply(sessionId) {
  return call(`api/sessions/${encodeURIComponent(sessionId)}/stop`, { method: "POST", body: {} });
}

/**
 * Sends a message; the reply's events follow as an async iterable. `model` (a catalogue
 * name) asks for a model other than the agent's own; without it the agent's answers.
 */
export async function startReply({ message, sessionId, agent, model, attachments }, signal) {
  const body = { message, session_id: sessionId };
  if (agent) body.agent = agent;
  if (model) body.model = model;
  if (attachments?.length) body.attachments = attachments;
  return stream("chat/stream", { method: "POST", body, signal });
}

/**
 * Uploads a file to attach to a message: `{id, media_type, name, size, kind}`. The server
 * tells what it is from its bytes (415 when it is no kind it takes, 413 when too large).
 */
export async function uploadAttachment(file, signal) {
  const headers = { Accept: "application/json", "Content-Type": "application/octet-stream" };
  const credentials = await auth.authorization();
  if (credentials) headers.Authorization = credentials;
  const response = await fetch(url(`api/attachments?name=${encodeURIComponent(file.name || "file")}`), {
    method: "POST", headers, body: file, signal, cache: "no-store",
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new ApiError(response.status, answer.error ?? "", answer.message ?? "");
    if (error.status === 401) auth.unauthorized(error);
    throw error;
  }
  return answer;
}

/** An attached file's bytes as a URL the page may show (a blob: URL, as requests carry sign-in headers). */
export async function attachmentURL(id) {
  const { response, release } = await request(`api/attachments/${encodeURIComponent(id)}`, { accept: "*/*" });
  try {
    return URL.createObjectURL(await response.blob());
  } finally {
    release();
  }
}

/** Sends `message` in place of the user's earlier message `messageId`; its reply's events follow. */
export async function editMessage({ sessionId, messageId, message, model }, signal) {
  const body = { message };
  if (model) body.model = model;
  const path = `api/sessions/${encodeURIComponent(sessionId)}/messages/${encodeURIComponent(messageId)}/edit`;
  return stream(path, { method: "POST", body, signal });
}

/** Writes the reply `messageId` again; the new reply's events follow. */
export async function regenerateReply({ sessionId, messageId, model }, signal) {
  const body = model ? { model } : {};
  const path = `api/sessions/${encodeURIComponent(sessionId)}/messages/${encodeURIComponent(messageId)}/regenerate`;
  return stream(path, { method: "POST", body, signal });
}

/** Makes the branch through `messageId` the current one; answers the conversation as `getSession` does. */
export async function switchBranch(sessionId, messageId) {
  return call(`api/sessions/${encodeURIComponent(sessionId)}/branch`, { method: "PUT", body: { message_id: messageId } });
}

/** The session's latest reply from after event `lastSeq`: what was missed, then the live rest. */
export async function resumeReply(sessionId, lastSeq, signal) {
  return stream(`api/sessions/${encodeURIComponent(sessionId)}/stream?last_event_id=${lastSeq}`, { signal });
}
