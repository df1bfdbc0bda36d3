// Follows one reply's events to its end. When the stream breaks (network drop, a proxy's
// timeout, a silent connection) it reconnects to GET /api/sessions/{id}/stream with the
// last event id it saw, so every event arrives exactly once.

import { ApiError } from "./api.js";
import { ConnectionLostError } from "./errors.js";
import { StreamStalledError } from "./sse.js";

const MAX_RECONNECTS = 6;

/**
 * `open()` gives the first stream of events (the POST that sends the message, or a resume);
 * `resume(lastSeq)` gives the rest after a break. Each event goes to `onEvent`, in order and
 * once. Resolves with the last event (`done` or `error`); rejects with the `ApiError` of an
 * answer that started no stream, or a `ConnectionLostError`. Aborting `signal` ends it.
 */
export async function followReply({ open, resume, onEvent, onReconnecting = () => {}, signal }) {
  let lastSeq = 0;
  let failures = 0;
  let events = await open();
  while (true) {
    try {
      for await (const event of events) {
        if (typeof event.seq === "number") {
          if (event.seq <= lastSeq) continue; // already seen before a reconnect
          lastSeq = event.seq;
        }
        if (failures > 0) {
          failures = 0;
          onReconnecting(false);
        }
        onEvent(event);
        if (event.type === "done" || event.type === "error") return event;
      }
      // The stream ended without the reply's last event: the connection was cut.
    } catch (error) {
      if (signal?.aborted) throw error;
      // A cut connection rejects with a TypeError; anything else is a bug worth seeing.
      if (!(error instanceof TypeError || error instanceof StreamStalledError)) console.error(error);
    }
    events = null;
    while (!events) {
      failures += 1;
      if (failures > MAX_RECONNECTS) throw new ConnectionLostError();
      onReconnecting(true);
      await pause(Math.min(250 * 2 ** failures, 4000), signal);
      try {
        events = await resume(lastSeq);
      } catch (error) {
        if (signal?.aborted) throw error;
        // 404: the server has no such reply any more. Other answers are final too.
        if (error instanceof ApiError) throw error.status === 404 ? new ConnectionLostError() : error;
      }
    }
  }
}

function pause(milliseconds, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, milliseconds);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason ?? new DOMException("Aborted", "AbortError"));
      },
      { once: true },
    );
  });
}
