// Markdown to DOM nodes, safely: every node is made with createElement and every piece of
// text goes in with textContent/text nodes, never innerHTML. HTML in a message (`<img
// onerror>`, `<script>`) therefore stays visible text, and links are only made for http(s)
// addresses, opening in a new tab.
//
// Covers what chat answers use: headings, paragraphs, lists (nested), block quotes, code
// blocks (with a copy button), tables, rules, and inline code, emphasis, strike-through,
// links and bare URLs. A reply that is still streaming renders too (an open code fence
// runs to the end).
//
// Replies are re-rendered while they stream, so every scan is linear or bounded: no input
// (thousands of `[` or `*`, quotes nested a thousand deep) makes rendering slow or deep.

import { t, translated } from "./i18n.js";

/** Renders `source` as a DocumentFragment. */
export function renderMarkdown(source) {
  const fragment = document.createDocumentFragment();
  const lines = String(source).replace(/\r\n?/g, "\n").split("\n").map(expandLeadingTabs);
  renderBlocks(lines, fragment);
  return fragment;
}

/** The address to link to, or `null` when `href` is not a plain http(s) URL. */
export function safeLinkTarget(href) {
  const text = String(href).trim();
  if (!/^https?:\/\//i.test(text)) return null;
  try {
    const parsed = new URL(text);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

// ---- blocks ----

const FENCE = /^( {0,3})(`{3,}|~{3,})(.*)$/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t](.*))?$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?/;
const LIST_ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])(?:([ \t]+)(.*)|$)/;
const TABLE_DELIMITER = /^\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?$/; // tested on trimmed lines

/** Block quotes and lists nest at most this deep; deeper markers stay text. */
const MAX_NESTING = 12;

const isBlank = (line) => line.trim() === "";
const indentOf = (line) => line.length - line.trimStart().length;

function expandLeadingTabs(line) {
  return line.replace(/^[ \t]+/, (space) => space.replace(/\t/g, "    "));
}

/** A code fence's opening line: {indent, fence, language}, or null. */
function fenceAt(line) {
  const match = FENCE.exec(line);
  if (!match || match[3].includes("`")) return null;
  return { indent: match[1], fence: match[2], language: match[3].trim().split(/\s/, 1)[0] };
}

/** A heading line: {level, text} without the optional closing `#`s, or null. */
function headingAt(line) {
  const match = HEADING.exec(line);
  if (!match) return null;
  const text = (match[2] ?? "").trimEnd();
  let hashes = text.length;
  while (hashes > 0 && text[hashes - 1] === "#") hashes -= 1;
  const closed = hashes < text.length && (hashes === 0 || text[hashes - 1] === " " || text[hashes - 1] === "\t");
  return { level: match[1].length, text: (closed ? text.slice(0, hashes) : text).trim() };
}

function renderBlocks(lines, parent, depth = 0) {
  const nests = depth < MAX_NESTING;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const heading = headingAt(line);
    if (isBlank(line)) {
      i += 1;
    } else if (fenceAt(line)) {
      i = codeBlock(lines, i, parent);
    } else if (heading) {
      parent.append(withInline(`h${heading.level}`, heading.text));
      i += 1;
    } else if (RULE.test(line)) {
      parent.append(document.createElement("hr"));
      i += 1;
    } else if (nests && QUOTE.test(line)) {
      const quoted = [];
      while (i < lines.length && QUOTE.test(lines[i])) quoted.push(lines[i++].replace(QUOTE, ""));
      const quote = document.createElement("blockquote");
      renderBlocks(quoted, quote, depth + 1);
      parent.append(quote);
    } else if (isTableStart(lines, i)) {
      i = table(lines, i, parent);
    } else if (nests && LIST_ITEM.test(line)) {
      i = list(lines, i, parent, depth);
    } else {
      i = paragraph(lines, i, parent);
    }
  }
}

/** Whether `line` ends a paragraph by starting another block. */
function startsBlock(lines, i) {
  const line = lines[i];
  if (fenceAt(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || isTableStart(lines, i)) return true;
  const item = LIST_ITEM.exec(line);
  // As in CommonMark, only a non-empty bullet or an ordered list starting at 1 interrupts a paragraph.
  return Boolean(item && item[4]?.trim() && (/^[-*+]$/.test(item[2]) || parseInt(item[2], 10) === 1));
}

function paragraph(lines, start, parent) {
  const text = [lines[start].trim()];
  let i = start + 1;
  while (i < lines.length && !isBlank(lines[i]) && !startsBlock(lines, i)) text.push(lines[i++].trim());
  parent.append(withInline("p", text.join("\n")));
  return i;
}

function codeBlock(lines, start, parent) {
  const { indent, fence, language } = fenceAt(lines[start]);
  const closing = new RegExp(`^ {0,3}${fence[0] === "`" ? "`" : "~"}{${fence.length},}[ \\t]*$`);
  const code = [];
  let i = start + 1;
  while (i < lines.length && !closing.test(lines[i])) {
    const line = lines[i++];
    code.push(line.slice(Math.min(indent.length, indentOf(line))));
  }
  parent.append(codeBlockElement(code.join("\n"), language));
  return i + 1; // past the closing fence (or the end, while a reply is still streaming)
}

function codeBlockElement(code, language) {
  const block = document.createElement("div");
  block.className = "code-block";
  const head = document.createElement("div");
  head.className = "code-head";
  const label = document.createElement("span");
  label.className = "code-language";
  if (language) label.textContent = language;
  else translated(label, "code");
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "copy-button";
  copy.dataset.copyCode = "";
  copy.dataset.i18nAriaLabel = "copyCode";
  copy.setAttribute("aria-label", t("copyCode"));
  translated(copy, "copy");
  head.append(label, copy);
  const pre = document.createElement("pre");
  const codeElement = document.createElement("code");
  if (language) codeElement.dataset.language = language;
  codeElement.textContent = code;
  pre.append(codeElement);
  pre.tabIndex = 0; // long lines scroll; the keyboard can scroll them too
  block.append(head, pre);
  return block;
}

function list(lines, start, parent, depth) {
  const first = LIST_ITEM.exec(lines[start]);
  const ordered = /\d/.test(first[2]);
  const listElement = document.createElement(ordered ? "ol" : "ul");
  if (ordered && parseInt(first[2], 10) !== 1) listElement.start = parseInt(first[2], 10);
  const sameKind = (match) => match && /\d/.test(match[2]) === ordered;
  let i = start;
  let loose = false;
  while (i < lines.length) {
    const marker = LIST_ITEM.exec(lines[i]);
    if (!sameKind(marker)) break;
    const markerIndent = marker[1].length;
    const spacing = marker[3] ?? "";
    const contentIndent = markerIndent + marker[2].length + (spacing.length >= 1 && spacing.length <= 4 ? spacing.length : 1);
    const itemLines = [marker[4] ?? ""];
    i += 1;
    while (i < lines.length) {
      const line = lines[i];
      if (isBlank(line)) {
        let next = i;
        while (next < lines.length && isBlank(lines[next])) next += 1;
        if (next < lines.length && indentOf(lines[next]) >= contentIndent) {
          for (; i < next; i += 1) itemLines.push("");
          continue;
        }
        break;
      }
      const indent = indentOf(line);
      if (indent >= contentIndent || (LIST_ITEM.test(line) && indent > markerIndent)) {
        itemLines.push(line.slice(Math.min(indent, contentIndent))); // nested content or a nested list
      } else if (LIST_ITEM.test(line.trimStart()) || startsBlock(lines, i) || isBlank(lines[i - 1])) {
        break;
      } else {
        itemLines.push(line.trim()); // a lazy continuation of the item's paragraph
      }
      i += 1;
    }
    const item = document.createElement("li");
    renderBlocks(itemLines, item, depth + 1);
    listElement.append(item);
    let next = i;
    while (next < lines.length && isBlank(lines[next])) next += 1;
    if (next >= lines.length || !sameKind(LIST_ITEM.exec(lines[next]))) break;
    if (next > i) loose = true;
    i = next;
  }
  if (!loose) listElement.classList.add("tight");
  parent.append(listElement);
  return i;
}

function isTableStart(lines, i) {
  if (i + 1 >= lines.length || !lines[i].includes("|") || !TABLE_DELIMITER.test(lines[i + 1].trim())) return false;
  if (!lines[i + 1].includes("|") && !lines[i].trim().startsWith("|")) return false;
  return splitRow(lines[i]).length === splitRow(lines[i + 1]).length;
}

function table(lines, start, parent) {
  const header = splitRow(lines[start]);
  const alignments = splitRow(lines[start + 1]).map((cell) => {
    const left = cell.startsWith(":");
    const right = cell.endsWith(":");
    return left && right ? "center" : right ? "right" : left ? "left" : "";
  });
  const tableElement = document.createElement("table");
  const head = document.createElement("thead");
  head.append(tableRow(header, "th", alignments));
  tableElement.append(head);
  const body = document.createElement("tbody");
  let i = start + 2;
  while (i < lines.length && !isBlank(lines[i]) && lines[i].includes("|") && !startsBlock(lines, i)) {
    const cells = splitRow(lines[i++]);
    body.append(tableRow(header.map((_, column) => cells[column] ?? ""), "td", alignments));
  }
  if (body.children.length > 0) tableElement.append(body);
  const wrapper = document.createElement("div");
  wrapper.className = "table-wrap"; // wide tables scroll inside, not the page
  wrapper.tabIndex = 0;
  wrapper.append(tableElement);
  parent.append(wrapper);
  return i;
}

function tableRow(cells, cellTag, alignments) {
  const row = document.createElement("tr");
  cells.forEach((text, column) => {
    const cell = withInline(cellTag, text);
    if (alignments[column]) cell.style.textAlign = alignments[column];
    row.append(cell);
  });
  return row;
}

/** A table row's cells: split on `|`, except escaped ones and those inside code spans. */
function splitRow(line) {
  let text = line.trim();
  if (text.startsWith("|")) text = text.slice(1);
  if (text.endsWith("|") && !text.endsWith("\\|")) text = text.slice(0, -1);
  const cells = [];
  let cell = "";
  let inCode = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (char === "\\" && text[i + 1] === "|") {
      cell += "|";
      i += 1;
    } else if (char === "`") {
      inCode = !inCode;
      cell += char;
    } else if (char === "|" && !inCode) {
      cells.push(cell.trim());
      cell = "";
    } else {
      cell += char;
    }
  }
  cells.push(cell.trim());
  return cells;
}

// ---- inline ----

const ESCAPABLE = /[!-/:-@[-`{-~]/;
const BARE_URL = /^https?:\/\/[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+/i;
const AUTOLINK = /^<(https?:\/\/[^\s<>]+)>/i;
/** Longer link titles and autolinks are not looked for (it keeps their scans bounded). */
const MAX_LINK_TITLE = 1024;
const MAX_AUTOLINK = 4096;

function withInline(tag, text) {
  const element = document.createElement(tag);
  renderInline(text, element, true);
  return element;
}

/**
 * What is known about one piece of inline text, so that a long run of `[`, `*`, `(` or
 * backticks is scanned once, not once per character: the matching `]` of every `[` and where
 * each link address ends (each found in one pass, when first needed), and the emphasis, code
 * span and `<address>` openers that have no closer.
 */
class InlineScan {
  constructor(text) {
    this.text = text;
    this.brackets = null;
    this.destinationEnds = null;
    this.unclosedEmphasis = new Set(); // "*1", "_2", "~2": from here on, no closer
    this.unclosedCode = new Set(); // backtick run lengths without a closing run
    this.unclosedAngle = false; // no `>` from here on
  }

  /**
   * Where a link address starting at `start` ends: at the first white space, or at the `)`
   * that closes more parentheses than the address opened.
   */
  destinationEnd(start) {
    if (!this.destinationEnds) this.destinationEnds = linkDestinationEnds(this.text);
    return this.destinationEnds[start];
  }

  /** The index of the `]` that closes the `[` at `start`, or -1. */
  closingBracket(start) {
    if (!this.brackets) {
      this.brackets = new Map();
      const open = [];
      for (let i = 0; i < this.text.length; i += 1) {
        const char = this.text[i];
        if (char === "\\") i += 1;
        else if (char === "[") open.push(i);
        else if (char === "]" && open.length > 0) this.brackets.set(open.pop(), i);
      }
    }
    return this.brackets.get(start) ?? -1;
  }
}

/** Renders inline Markdown into `parent`. `links` is false inside a link's own text. */
function renderInline(text, parent, links) {
  const scan = new InlineScan(text);
  let plain = "";
  const flush = () => {
    appendText(parent, plain);
    plain = "";
  };
  let i = 0;
  while (i < text.length) {
    const char = text[i];

    if (char === "\\" && ESCAPABLE.test(text[i + 1] ?? "")) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    if (char === "`") {
      const span = codeSpanAt(text, i, scan);
      if (span) {
        flush();
        const code = document.createElement("code");
        code.textContent = span.content.replace(/\n/g, " ").replace(/^ (.+) $/, "$1");
        parent.append(code);
        i = span.end;
      } else {
        const run = runLength(text, i);
        plain += text.slice(i, i + run);
        i += run;
      }
      continue;
    }
    if (links && (char === "[" || (char === "!" && text[i + 1] === "["))) {
      const link = linkAt(text, char === "!" ? i + 1 : i, scan);
      if (link) {
        flush();
        parent.append(linkElement(link, char === "!", text.slice(i, link.end)));
        i = link.end;
        continue;
      }
    }
    if (links && char === "<") {
      const autolink = AUTOLINK.exec(text.slice(i, i + MAX_AUTOLINK));
      if (autolink) {
        const [whole, href] = autolink;
        flush();
        parent.append(anchorOrText(href, href));
        i += whole.length;
        continue;
      }
    }
    if (links && (char === "h" || char === "H") && !/[A-Za-z0-9]/.test(text[i - 1] ?? "")) {
      const url = BARE_URL.exec(text.slice(i));
      if (url) {
        const href = trimUrl(url[0]);
        flush();
        parent.append(anchorOrText(href, href));
        i += href.length;
        continue;
      }
    }
    if (char === "*" || char === "_" || char === "~") {
      const emphasis = emphasisAt(text, i, scan);
      if (emphasis) {
        flush();
        const outer = document.createElement(emphasis.tags[0]);
        let inner = outer;
        for (const tag of emphasis.tags.slice(1)) inner = inner.appendChild(document.createElement(tag));
        renderInline(emphasis.inner, inner, links);
        parent.append(outer);
        i = emphasis.end;
        continue;
      }
      const run = runLength(text, i);
      plain += text.slice(i, i + run);
      i += run;
      continue;
    }
    plain += char;
    i += 1;
  }
  flush();
}

/** `destinationEnd` for every start, in two linear passes. */
function linkDestinationEnds(text) {
  const length = text.length;
  // depth[k]: parentheses opened minus closed before k. An address from k ends at the first
  // j > k with depth[j] < depth[k] (just after that `)`, so at j - 1), or at white space.
  const depth = new Int32Array(length + 1);
  for (let k = 0; k < length; k += 1) depth[k + 1] = depth[k] + (text[k] === "(" ? 1 : text[k] === ")" ? -1 : 0);
  const ends = new Int32Array(length + 1).fill(length);
  const waiting = []; // indices whose end is not found yet, their depths increasing
  for (let j = 0; j <= length; j += 1) {
    while (waiting.length > 0 && depth[j] < depth[waiting[waiting.length - 1]]) ends[waiting.pop()] = j - 1;
    waiting.push(j);
  }
  let space = length;
  for (let k = length - 1; k >= 0; k -= 1) {
    if (/\s/.test(text[k])) space = k;
    if (space < ends[k]) ends[k] = space;
  }
  return ends;
}

/** How many times the character at `start` repeats from there. */
function runLength(text, start) {
  let end = start + 1;
  while (text[end] === text[start]) end += 1;
  return end - start;
}

/** A code span opening at `start` (a run of backticks closed by a run as long): {content, end} or null. */
function codeSpanAt(text, start, scan) {
  const size = runLength(text, start);
  if (scan.unclosedCode.has(size)) return null;
  let i = start + size;
  while (i < text.length) {
    i = text.indexOf("`", i);
    if (i < 0) break;
    const closeSize = runLength(text, i);
    if (closeSize === size) return { content: text.slice(start + size, i), end: i + size };
    i += closeSize;
  }
  scan.unclosedCode.add(size); // no later run of this length closes either
  return null;
}

/** Text with its line breaks kept (chat messages mean them). */
function appendText(parent, text) {
  text.split("\n").forEach((line, index) => {
    if (index > 0) parent.append(document.createElement("br"));
    if (line) parent.append(document.createTextNode(line));
  });
}

/** `[label](href "title")` starting at `start` (the `[`): {label, href, end} or null. */
function linkAt(text, start, scan) {
  const close = scan.closingBracket(start);
  if (close < 0 || text[close + 1] !== "(") return null;
  let i = close + 2;
  while (text[i] === " ") i += 1;
  let from = i;
  let to;
  if (text[i] === "<") {
    to = scan.unclosedAngle ? -1 : text.indexOf(">", i);
    if (to < 0) {
      scan.unclosedAngle = true;
      return null;
    }
    from += 1;
    i = to + 1;
  } else {
    to = i = scan.destinationEnd(i);
  }
  const title = /^\s+("[^"]*"|'[^']*'|\([^)]*\))/.exec(text.slice(i, i + MAX_LINK_TITLE));
  if (title) i += title[0].length;
  while (text[i] === " ") i += 1;
  if (text[i] !== ")") return null;
  return { label: text.slice(start + 1, close), href: text.slice(from, to), end: i + 1 };
}

function linkElement(link, isImage, source) {
  const target = safeLinkTarget(link.href);
  if (!target) {
    // A link to somewhere unsafe (javascript:, data:, a relative path) stays plain text.
    return document.createTextNode(source);
  }
  const anchor = newTabLink(target);
  // Images are not loaded from addresses in messages; they become links to the picture.
  if (isImage) appendText(anchor, link.label || target);
  else renderInline(link.label || target, anchor, false);
  return anchor;
}

function anchorOrText(href, label) {
  const target = safeLinkTarget(href);
  if (!target) return document.createTextNode(label);
  const anchor = newTabLink(target);
  anchor.textContent = label;
  return anchor;
}

function newTabLink(href) {
  const anchor = document.createElement("a");
  anchor.href = href;
  anchor.target = "_blank";
  anchor.rel = "noopener noreferrer";
  return anchor;
}

/** A bare URL without the punctuation that usually follows it in a sentence. */
function trimUrl(url) {
  let end = url.replace(/[.,:;!?'"*_~]+$/, "").length;
  const unbalanced = (open, close) => {
    let balance = 0;
    for (let i = 0; i < end; i += 1) {
      if (url[i] === open) balance += 1;
      else if (url[i] === close) balance -= 1;
    }
    while (balance < 0 && url[end - 1] === close) {
      end -= 1;
      balance += 1;
    }
  };
  unbalanced("(", ")");
  unbalanced("[", "]");
  return url.slice(0, end);
}

/**
 * Emphasis opening at `start`: `*em*`, `**strong**`, `***both***`, `~~struck~~` (and `_` forms,
 * which, as in CommonMark, do not work inside words such as snake_case_names).
 */
function emphasisAt(text, start, scan) {
  const char = text[start];
  const run = runLength(text, start);
  if (char === "~" ? run !== 2 : run > 3) return null;
  const after = text[start + run] ?? "";
  if (after === "" || /\s/.test(after)) return null;
  if (char === "_" && /[\p{L}\p{N}]/u.test(text[start - 1] ?? "")) return null;
  const kind = char + run;
  if (scan.unclosedEmphasis.has(kind)) return null;
  for (let i = start + run; i < text.length; i += 1) {
    if (text[i] === "\\") {
      i += 1;
      continue;
    }
    if (text[i] === "`") {
      // Emphasis does not close inside a code span.
      const span = codeSpanAt(text, i, scan);
      i = (span ? span.end : i + runLength(text, i)) - 1;
      continue;
    }
    if (text[i] !== char) continue;
    const closeRun = runLength(text, i);
    const before = text[i - 1];
    const next = text[i + closeRun] ?? "";
    const closes = closeRun === run && !/\s/.test(before) && !(char === "_" && /[\p{L}\p{N}]/u.test(next));
    if (closes && i > start + run) {
      const tags = char === "~" ? ["del"] : run === 1 ? ["em"] : run === 2 ? ["strong"] : ["strong", "em"];
      return { tags, inner: text.slice(start + run, i), end: i + closeRun };
    }
    i += closeRun - 1;
  }
  scan.unclosedEmphasis.add(kind); // a later opener of this kind would find no closer either
  return null;
}
