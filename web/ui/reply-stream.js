// Follows one reply's events to its end. When the stream breaks (network drop, a proxy's
// timeout, a silent connection, a proxy's 502/503/504) it reconnects to
// GET /api/sessions/{id}/stream with the last event id it saw, so every event arrives
// exactly once.

import { ApiError } from "./api.js";
import { ConnectionLostError } from "./errors.js";
import { StreamStalledError } from "./sse.js";

const MAX_RECONNECTS = 6;

/** Answers to a resume that mean "not now" (a proxy, or a server that is busy), not "never". */
const PASSING_STATUSES = new Set([502, 503, 504]);

/** How long to wait before the `failures`-th reconnect in a row. */
export const reconnectDelay = (failures) => Math.min(250 * 2 ** failures, 4000);

/**
 * `open()` gives the first stream of events (the POST that sends the message, or a resume);
 * `resume(lastSeq)` gives the rest after a break. Each event goes to `onEvent`, in order and
 * once. Resolves with the last event (`done` or `error`). Rejects with what `open()` threw
 * when no stream began, and with a `ConnectionLostError` when it began but could not be
 * resumed. Aborting `signal` ends it.
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
        failures = 0;
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
      await pause(reconnectDelay(failures), signal);
      try {
        events = await resume(lastSeq);
        onReconnecting(false); // connected again (the count of failures waits for an event)
      } catch (error) {
        if (signal?.aborted) throw error;
        // 404: the server has no such reply any more; other answers but 502/503/504 are final too.
        if (error instanceof ApiError && !PASSING_STATUSES.has(error.status)) throw new ConnectionLostError();
      }
    }
  }
}

/** Resolves after `milliseconds`; rejects when `signal` aborts first. */
export function pause(milliseconds, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new DOMException("Aborted", "AbortError"));
    const aborted = () => {
      clearTimeout(timer);
      reject(signal.reason ?? new DOMException("Aborted", "AbortError"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", aborted);
      resolve();
    }, milliseconds);
    signal?.addEventListener("abort", aborted, { once: true });
  });
}
