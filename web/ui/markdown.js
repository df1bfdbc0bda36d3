// Markdown to DOM nodes, safely: every node is made with createElement and every piece of
// text goes in with textContent/text nodes, never innerHTML. HTML in a message (`<img
// onerror>`, `<script>`) therefore stays visible text, and links are only made for http(s)
// addresses, opening in a new tab.
//
// Covers what chat answers use: headings, paragraphs, lists (nested), block quotes, code
// blocks (with a copy button), tables, rules, and inline code, emphasis, strike-through,
// links and bare URLs. A reply that is still streaming renders too (an open code fence
// runs to the end).

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

const FENCE = /^( {0,3})(`{3,}|~{3,})[ \t]*([^`\s]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?/;
const LIST_ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])(?:([ \t]+)(.*)|$)/;
const TABLE_DELIMITER = /^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;

const isBlank = (line) => line.trim() === "";
const indentOf = (line) => line.length - line.trimStart().length;

function expandLeadingTabs(line) {
  return line.replace(/^[ \t]+/, (space) => space.replace(/\t/g, "    "));
}

function renderBlocks(lines, parent) {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (isBlank(line)) {
      i += 1;
    } else if (FENCE.test(line)) {
      i = codeBlock(lines, i, parent);
    } else if (HEADING.test(line)) {
      const [, hashes, text = ""] = HEADING.exec(line);
      parent.append(withInline(`h${hashes.length}`, text));
      i += 1;
    } else if (RULE.test(line)) {
      parent.append(document.createElement("hr"));
      i += 1;
    } else if (QUOTE.test(line)) {
      const quoted = [];
      while (i < lines.length && QUOTE.test(lines[i])) quoted.push(lines[i++].replace(QUOTE, ""));
      const quote = document.createElement("blockquote");
      renderBlocks(quoted, quote);
      parent.append(quote);
    } else if (isTableStart(lines, i)) {
      i = table(lines, i, parent);
    } else if (LIST_ITEM.test(line)) {
      i = list(lines, i, parent);
    } else {
      i = paragraph(lines, i, parent);
    }
  }
}

/** Whether `line` ends a paragraph by starting another block. */
function startsBlock(lines, i) {
  const line = lines[i];
  if (FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || isTableStart(lines, i)) return true;
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
  const [, indent, fence, language] = FENCE.exec(lines[start]);
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
  label.textContent = language || "code";
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

function list(lines, start, parent) {
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
    renderBlocks(itemLines, item);
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
  if (i + 1 >= lines.length || !lines[i].includes("|") || !TABLE_DELIMITER.test(lines[i + 1])) return false;
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

function withInline(tag, text) {
  const element = document.createElement(tag);
  renderInline(text, element, true);
  return element;
}

/** Renders inline Markdown into `parent`. `links` is false inside a link's own text. */
function renderInline(text, parent, links) {
  let plain = "";
  const flush = () => {
    appendText(parent, plain);
    plain = "";
  };
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    const rest = text.slice(i);

    if (char === "\\" && ESCAPABLE.test(text[i + 1] ?? "")) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    if (char === "`") {
      const run = /^`+/.exec(rest)[0];
      const close = text.indexOf(run, i + run.length);
      if (close > 0 && text[close + run.length] !== "`") {
        flush();
        const code = document.createElement("code");
        code.textContent = text.slice(i + run.length, close).replace(/\n/g, " ").replace(/^ (.+) $/, "$1");
        parent.append(code);
        i = close + run.length;
      } else {
        plain += run;
        i += run.length;
      }
      continue;
    }
    if (links && (char === "[" || (char === "!" && text[i + 1] === "["))) {
      const link = linkAt(text, char === "!" ? i + 1 : i);
      if (link) {
        flush();
        parent.append(linkElement(link, char === "!", text.slice(i, link.end)));
        i = link.end;
        continue;
      }
    }
    if (links && char === "<" && AUTOLINK.test(rest)) {
      const [whole, href] = AUTOLINK.exec(rest);
      flush();
      parent.append(anchorOrText(href, href));
      i += whole.length;
      continue;
    }
    if (links && (char === "h" || char === "H") && BARE_URL.test(rest) && !/[A-Za-z0-9]/.test(text[i - 1] ?? "")) {
      const href = trimUrl(BARE_URL.exec(rest)[0]);
      flush();
      parent.append(anchorOrText(href, href));
      i += href.length;
      continue;
    }
    if (char === "*" || char === "_" || char === "~") {
      const emphasis = emphasisAt(text, i);
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
      const run = new RegExp(`^\\${char}+`).exec(rest)[0];
      plain += run;
      i += run.length;
      continue;
    }
    plain += char;
    i += 1;
  }
  flush();
}

/** Text with its line breaks kept (chat messages mean them). */
function appendText(parent, text) {
  text.split("\n").forEach((line, index) => {
    if (index > 0) parent.append(document.createElement("br"));
    if (line) parent.append(document.createTextNode(line));
  });
}

/** `[label](href "title")` starting at `start` (the `[`): {label, href, end} or null. */
function linkAt(text, start) {
  let depth = 0;
  let close = -1;
  for (let i = start; i < text.length; i += 1) {
    if (text[i] === "\\") i += 1;
    else if (text[i] === "[") depth += 1;
    else if (text[i] === "]" && --depth === 0) {
      close = i;
      break;
    }
  }
  if (close < 0 || text[close + 1] !== "(") return null;
  let i = close + 2;
  while (text[i] === " ") i += 1;
  let href = "";
  if (text[i] === "<") {
    const end = text.indexOf(">", i);
    if (end < 0) return null;
    href = text.slice(i + 1, end);
    i = end + 1;
  } else {
    let parens = 0;
    while (i < text.length && !/\s/.test(text[i])) {
      if (text[i] === "(") parens += 1;
      else if (text[i] === ")" && parens-- === 0) break;
      href += text[i++];
    }
  }
  const title = /^\s+("[^"]*"|'[^']*'|\([^)]*\))/.exec(text.slice(i));
  if (title) i += title[0].length;
  while (text[i] === " ") i += 1;
  if (text[i] !== ")") return null;
  return { label: text.slice(start + 1, close), href, end: i + 1 };
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
  let trimmed = url.replace(/[.,:;!?'"*_~]+$/, "");
  while (trimmed.endsWith(")") && count(trimmed, "(") < count(trimmed, ")")) trimmed = trimmed.slice(0, -1);
  while (trimmed.endsWith("]") && count(trimmed, "[") < count(trimmed, "]")) trimmed = trimmed.slice(0, -1);
  return trimmed;
}

const count = (text, char) => text.split(char).length - 1;

/**
 * Emphasis opening at `start`: `*em*`, `**strong**`, `***both***`, `~~struck~~` (and `_` forms,
 * which, as in CommonMark, do not work inside words such as snake_case_names).
 */
function emphasisAt(text, start) {
  const char = text[start];
  const run = new RegExp(`^\\${char}+`).exec(text.slice(start))[0].length;
  if (char === "~" ? run !== 2 : run > 3) return null;
  const after = text[start + run] ?? "";
  if (after === "" || /\s/.test(after)) return null;
  if (char === "_" && /[\p{L}\p{N}]/u.test(text[start - 1] ?? "")) return null;
  for (let i = start + run; i < text.length; i += 1) {
    if (text[i] === "\\") {
      i += 1;
      continue;
    }
    if (text[i] === "`") {
      const close = text.indexOf("`", i + 1); // emphasis does not close inside a code span
      if (close > 0) i = close;
      continue;
    }
    if (text[i] !== char) continue;
    const closeRun = new RegExp(`^\\${char}+`).exec(text.slice(i))[0].length;
    const before = text[i - 1];
    const next = text[i + closeRun] ?? "";
    const closes = closeRun === run && !/\s/.test(before) && !(char === "_" && /[\p{L}\p{N}]/u.test(next));
    if (closes && i > start + run) {
      const tags = char === "~" ? ["del"] : run === 1 ? ["em"] : run === 2 ? ["strong"] : ["strong", "em"];
      return { tags, inner: text.slice(start + run, i), end: i + closeRun };
    }
    i += closeRun - 1;
  }
  return null;
}
