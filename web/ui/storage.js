// What the page remembers between visits, in localStorage. Storage can be unavailable
// (private windows, blocked cookies); the page then simply forgets.

const PREFIX = "kaiwa.";

export function remember(key, value) {
  try {
    if (value === null || value === undefined) localStorage.removeItem(PREFIX + key);
    else localStorage.setItem(PREFIX + key, value);
  } catch {
    // Not stored; the page still works for this visit.
  }
}

export function recall(key) {
  try {
    return localStorage.getItem(PREFIX + key);
  } catch {
    return null;
  }
}

/** A new session id, made by the page as seed 001 does (crypto.randomUUID). */
export function newSessionId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // randomUUID only exists on https and localhost; plain-http deployments get the same shape.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
