// Reads a `text/event-stream` response body. EventSource cannot POST, so the page reads the
// stream of `fetch` itself.

/** The stream went quiet for longer than the server's keep-alive allows: treat it as broken. */
export class StreamStalledError extends Error {
  constructor() {
    super("The event stream went quiet.");
    this.name = "StreamStalledError";
  }
}

/**
 * Yields `{id, event, data}` for each event of `body` (a ReadableStream of bytes).
 * Comment lines (the server's `: keep-alive`) are skipped but count as life.
 */
export async function* readEventStream(body, { stallAfterMs = 45000 } = {}) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    while (true) {
      const { value, done } = await readWithin(reader, stallAfterMs);
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      buffer = buffer.replace(/\r\n|\r(?=.)/g, "\n");
      let boundary;
      while ((boundary = buffer.indexOf("\n\n")) >= 0) {
        const event = parseEvent(buffer.slice(0, boundary));
        buffer = buffer.slice(boundary + 2);
        if (event) yield event;
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

function readWithin(reader, milliseconds) {
  let timer;
  const stalled = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new StreamStalledError()), milliseconds);
  });
  return Promise.race([reader.read(), stalled]).finally(() => clearTimeout(timer));
}

function parseEvent(block) {
  const event = { id: null, event: "message", data: "" };
  const data = [];
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") data.push(value);
    else if (field === "event") event.event = value;
    else if (field === "id") event.id = value;
  }
  if (data.length === 0) return null;
  event.data = data.join("\n");
  return event;
}
