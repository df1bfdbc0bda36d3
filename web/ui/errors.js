// What went wrong, in the user's words (seed 001 §4.3): which message of i18n.js to show
// for an error answer, an `error` event or a failed connection.

import { ApiError, RequestTimeoutError } from "./api.js";
import { StreamStalledError } from "./sse.js";

/** The reply's stream broke and could not be resumed. */
export class ConnectionLostError extends Error {
  constructor() {
    super("The connection was lost.");
    this.name = "ConnectionLostError";
  }
}

const BY_CODE = {
  session_expired: "errorSessionExpired",
  service_unavailable: "errorUnavailable",
  model_timeout: "errorTimeout",
  conflict: "errorConflict",
  payload_too_large: "errorTooLong",
  unauthorized: "errorSignedOut",
  rate_limited: "errorRateLimited",
  quota_exceeded: "errorQuota",
  model_not_found: "errorModel",
};

const BY_STATUS = {
  401: "errorSignedOut",
  408: "errorSessionExpired",
  409: "errorConflict",
  413: "errorTooLong",
  502: "errorUnavailable",
  503: "errorUnavailable",
  504: "errorTimeout",
};

/** The message key for an `error` event's code (or an error answer's code and status). */
export function messageKeyForCode(code, status) {
  return BY_CODE[code] ?? BY_STATUS[status] ?? "errorGeneric";
}

/** The message key for something thrown while talking to the server. */
export function messageKeyForError(error) {
  if (error instanceof ApiError) return messageKeyForCode(error.code, error.status);
  if (error instanceof RequestTimeoutError || error instanceof StreamStalledError) return "errorTimeout";
  if (error instanceof ConnectionLostError) return "errorConnectionLost";
  if (error instanceof TypeError) return "errorNetwork"; // fetch could not connect
  return "errorGeneric";
}

export function isSessionExpired(error) {
  return error instanceof ApiError && (error.status === 408 || error.code === "session_expired");
}
