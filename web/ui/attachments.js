// Files attached to a message: the chips above the message box while they upload (from the
// file button, a drop or a paste), and the thumbnails and file chips of a sent message. An
// image opens full size in a new tab.

import * as api from "./api.js";
import { announce } from "./announcer.js";
import { t, translated } from "./i18n.js";

/** The files waiting to go with the next message, each uploaded as soon as it is chosen. */
export class PendingFiles {
  constructor(list, onChange) {
    this.list = list;
    this.onChange = onChange;
    this.files = []; // {file, element, upload: Promise, attachment, error}
  }

  get uploading() {
    return this.files.some((entry) => !entry.attachment && !entry.error);
  }

  /** The uploaded files' descriptions (id, media_type, name, size), in the order chosen. */
  get attachments() {
    return this.files.filter((entry) => entry.attachment).map((entry) => entry.attachment);
  }

  add(fileList) {
    for (const file of fileList) {
      const entry = { file, attachment: null, error: null };
      entry.element = this.chip(entry);
      this.files.push(entry);
      this.list.append(entry.element);
      entry.upload = api.uploadAttachment(file).then(
        (attachment) => {
          entry.attachment = attachment;
          entry.element.classList.remove("uploading");
          entry.element.querySelector(".file-state").textContent = "";
        },
        (error) => {
          entry.error = error;
          entry.element.classList.remove("uploading");
          entry.element.classList.add("failed");
          const reason = error.message || String(error);
          translated(entry.element.querySelector(".file-state"), "fileFailed", { name: file.name, reason });
          announce("fileFailed", { name: file.name, reason });
        },
      ).finally(() => this.onChange());
    }
    this.list.hidden = this.files.length === 0;
    this.onChange();
  }

  chip(entry) {
    const item = document.createElement("li");
    item.className = "file-chip uploading";
    const name = document.createElement("span");
    name.className = "file-name";
    name.textContent = entry.file.name;
    const state = translated(document.createElement("span"), "uploading");
    state.className = "file-state";
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "file-remove";
    remove.textContent = "×";
    remove.dataset.i18nAriaLabel = "removeFile";
    remove.dataset.i18nArgs = JSON.stringify({ name: entry.file.name });
    remove.setAttribute("aria-label", t("removeFile", { name: entry.file.name }));
    remove.addEventListener("click", () => this.remove(entry));
    item.append(name, state, remove);
    return item;
  }

  remove(entry) {
    this.files = this.files.filter((other) => other !== entry);
    entry.element.remove();
    this.list.hidden = this.files.length === 0;
    this.onChange();
  }

  clear() {
    this.files = [];
    this.list.replaceChildren();
    this.list.hidden = true;
    this.onChange();
  }
}

/** A sent message's files: images as thumbnails that open full size, other files as chips. */
export function attachmentViews(attachments) {
  const box = document.createElement("div");
  box.className = "message-files";
  for (const file of attachments) {
    if (file.media_type?.startsWith("image/")) {
      const link = document.createElement("a");
      link.className = "file-thumbnail";
      link.target = "_blank";
      link.rel = "noopener";
      link.dataset.i18nAriaLabel = "openImage";
      link.dataset.i18nArgs = JSON.stringify({ name: file.name });
      link.setAttribute("aria-label", t("openImage", { name: file.name }));
      const image = document.createElement("img");
      image.alt = file.name;
      link.append(image);
      api.attachmentURL(file.id).then(
        (address) => {
          image.src = address;
          link.href = address;
        },
        () => link.classList.add("missing"),
      );
      box.append(link);
    } else {
      const chip = document.createElement("span");
      chip.className = "file-chip sent";
      chip.textContent = file.name;
      box.append(chip);
    }
  }
  return box;
}
