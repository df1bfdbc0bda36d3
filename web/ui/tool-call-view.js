// A tool call inside a reply: a compact line (tool name and state) that opens to show the
// input the model gave and a summary of the result; a failed call is shown in red.

import { translated } from "./i18n.js";
import { icon } from "./icons.js";

export class ToolCallView {
  constructor({ id, name, input }) {
    this.id = id;
    this.element = document.createElement("details");
    this.element.className = "tool-call";
    this.element.dataset.state = "running";

    const summary = document.createElement("summary");
    const nameLabel = document.createElement("span");
    nameLabel.className = "tool-name";
    nameLabel.textContent = name;
    this.stateIcon = document.createElement("span");
    this.stateIcon.className = "tool-state-icon";
    this.status = translated(document.createElement("span"), "toolRunning");
    this.status.className = "tool-status";
    summary.append(icon("tool", "icon tool-icon"), nameLabel, this.stateIcon, this.status, icon("chevron", "icon chevron"));

    const body = document.createElement("div");
    body.className = "tool-body";
    const inputLabel = translated(document.createElement("div"), "toolInput");
    inputLabel.className = "tool-label";
    const inputText = document.createElement("pre");
    inputText.className = "tool-input";
    inputText.textContent = JSON.stringify(input ?? {}, null, 2);
    this.resultLabel = translated(document.createElement("div"), "toolResult");
    this.resultLabel.className = "tool-label";
    this.resultLabel.hidden = true;
    this.result = document.createElement("p");
    this.result.className = "tool-result";
    this.result.hidden = true;
    body.append(inputLabel, inputText, this.resultLabel, this.result);

    this.element.append(summary, body);
  }

  setResult({ ok, summary }) {
    this.element.dataset.state = ok ? "ok" : "error";
    this.element.classList.toggle("tool-error", !ok);
    translated(this.status, ok ? "toolDone" : "toolFailed");
    this.stateIcon.replaceChildren(icon(ok ? "check" : "cross", "icon"));
    this.result.textContent = summary;
    this.result.hidden = false;
    this.resultLabel.hidden = false;
  }
}
