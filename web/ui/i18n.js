// The page's words in Japanese and English. The language comes from the user's choice (the
// switch in the page), else from the browser's languages.
//
// In the HTML, `data-i18n="key"` sets an element's text, and `data-i18n-placeholder`,
// `data-i18n-aria-label` and `data-i18n-title` set those attributes.

import { recall, remember } from "./storage.js";

const STRINGS = {
  en: {
    newChat: "New conversation",
    conversations: "Conversations",
    noConversations: "No conversations yet.",
    showMore: "Show more",
    loadingConversations: "Loading…",
    openMenu: "Show conversations",
    closeMenu: "Hide conversations",
    agent: "Agent",
    model: "Model",
    language: "Language",
    welcomeTitle: "How can I help you today?",
    welcomeBody: "Ask anything, or start with one of these:",
    suggestions: "Suggested prompts",
    messages: "Conversation",
    messageLabel: "Message",
    placeholder: "Send a message…",
    send: "Send",
    stop: "Stop the reply",
    hint: "Enter to send · Shift+Enter for a new line",
    you: "You",
    reply: "Reply",
    thinking: "Writing a reply…",
    copy: "Copy",
    copied: "Copied",
    copyCode: "Copy code",
    copyMarkdown: "Copy as Markdown",
    editMessage: "Edit",
    editMessageLabel: "Edit your message",
    sendEdit: "Send",
    regenerate: "Regenerate",
    previousVersion: "Previous version",
    nextVersion: "Next version",
    versionPosition: "{position} / {count}",
    attachFiles: "Attach files",
    removeFile: "Remove {name}",
    uploading: "Uploading…",
    fileFailed: "Could not attach {name}: {reason}",
    dropFiles: "Drop files to attach them",
    openImage: "Open {name} full size",
    code: "code",
    stopped: "Stopped.",
    notStopped: "The reply has not stopped and is still being written.",
    announceDone: "The reply is complete.",
    announceStopped: "The reply was stopped.",
    announceFailed: "The reply failed.",
    incomplete: "This reply ended early.",
    reconnecting: "Connection lost. Reconnecting…",
    toolInput: "Input",
    toolResult: "Result",
    toolRunning: "Running…",
    toolDone: "Done",
    toolFailed: "Error",
    toolCall: "Tool {name}",
    usage: "{input} in · {output} out tokens",
    answeredBy: "Answered by {model}",
    fallbackFor: "fallback: {model} did not answer",
    cost: "${cost}",
    deleteConversation: "Delete “{title}”",
    renameConversation: "Rename “{title}”",
    conversationTitle: "Title of the conversation",
    searchConversations: "Search conversations",
    noMatches: "No conversation has these words.",
    confirmDeleteTitle: "Delete this conversation?",
    confirmDeleteBody: "“{title}” will be deleted for good.",
    cancel: "Cancel",
    delete: "Delete",
    untitled: "New conversation",
    errorTimeout: "The connection timed out. Please try again.",
    errorUnavailable: "The service is temporarily unavailable. Please try again in a moment.",
    errorSessionExpired: "Your session timed out, so a new one has started. Your message is back in the box: send it again.",
    errorNetwork: "Could not reach the server. Check your connection and try again.",
    errorConnectionLost: "The connection was lost and the reply could not be resumed. Please try again.",
    errorConflict: "The previous reply is still being written. Wait for it, or stop it.",
    errorTooLong: "The message is too long. Please shorten it.",
    errorGeneric: "Something went wrong. Please try again.",
    errorModel: "This model is not available for this agent. Pick another model and try again.",
    errorLoad: "Could not load this conversation.",
    replyFailed: "This reply could not be completed.",
    errorSignedOut: "You have been signed out. Sign in again: your message is back in the box.",
    errorRateLimited: "Too many requests. Please wait a moment and try again.",
    errorQuota: "You have used up today's allowance. Please try again tomorrow.",
    signInTitle: "Sign in to Kaiwa",
    signInBody: "This server asks you to sign in before you chat.",
    signInAgainBody: "Your sign-in has ended. Sign in again to go on; what you were writing is kept.",
    signInProvider: "Sign in",
    signInOr: "or",
    apiKey: "API key",
    apiKeyHint: "A key made with kaiwa keys create (it starts with kw_).",
    useApiKey: "Use the API key",
    signingIn: "Signing in…",
    signedInAs: "Signed in as",
    signOut: "Sign out",
    errorKeyMissing: "Enter your API key.",
    errorKeyRejected: "This API key was not accepted. Check it and try again.",
    errorSignInFailed: "Signing in did not work. Please try again.",
    errorSignInDenied: "Signing in was cancelled.",
    errorSignInState: "This sign-in answer does not belong to a sign-in this page started, so it was not used. Please sign in again.",
    errorSignInNetwork: "Could not reach the sign-in service. Check your connection and try again.",
    errorSignInUnavailable: "This server has no sign-in page set up. Ask its administrator for an API key.",
    errorSignInNeedsHttps: "Signing in needs this page on https (or on localhost).",
    errorSignInStorage: "This browser does not let the page keep the sign-in while it is under way. Allow site data and try again.",
  },
  ja: {
    newChat: "新しい会話",
    conversations: "会話の履歴",
    noConversations: "まだ会話はありません。",
    showMore: "さらに表示",
    loadingConversations: "読み込み中…",
    openMenu: "会話の履歴を表示",
    closeMenu: "会話の履歴を閉じる",
    agent: "エージェント",
    model: "モデル",
    language: "言語",
    welcomeTitle: "今日はどんなお手伝いをしましょうか？",
    welcomeBody: "自由に質問するか、こちらから選んでください：",
    suggestions: "おすすめの質問",
    messages: "会話",
    messageLabel: "メッセージ",
    placeholder: "メッセージを入力してください",
    send: "送信",
    stop: "返信を停止",
    hint: "Enter で送信 · Shift+Enter で改行",
    you: "あなた",
    reply: "返信",
    thinking: "返信を作成しています…",
    copy: "コピー",
    copied: "コピーしました",
    copyCode: "コードをコピー",
    copyMarkdown: "Markdown でコピー",
    editMessage: "編集",
    editMessageLabel: "メッセージを編集",
    sendEdit: "送信",
    regenerate: "もう一度生成",
    previousVersion: "前のバージョン",
    nextVersion: "次のバージョン",
    versionPosition: "{position} / {count}",
    attachFiles: "ファイルを添付",
    removeFile: "{name} を外す",
    uploading: "アップロード中…",
    fileFailed: "{name} を添付できませんでした: {reason}",
    dropFiles: "ここにドロップして添付",
    openImage: "{name} を原寸で開く",
    code: "コード",
    stopped: "停止しました。",
    notStopped: "返信はまだ停止しておらず、作成が続いています。",
    announceDone: "返信が完了しました。",
    announceStopped: "返信を停止しました。",
    announceFailed: "返信に失敗しました。",
    incomplete: "この返信は途中で終わっています。",
    reconnecting: "接続が切れました。再接続しています…",
    toolInput: "入力",
    toolResult: "結果",
    toolRunning: "実行中…",
    toolDone: "完了",
    toolFailed: "エラー",
    toolCall: "ツール {name}",
    usage: "入力 {input}・出力 {output} トークン",
    answeredBy: "回答したモデル: {model}",
    fallbackFor: "代替: {model} が応答しませんでした",
    cost: "${cost}",
    deleteConversation: "「{title}」を削除",
    renameConversation: "「{title}」の名前を変更",
    conversationTitle: "会話のタイトル",
    searchConversations: "会話を検索",
    noMatches: "この言葉を含む会話はありません。",
    confirmDeleteTitle: "この会話を削除しますか？",
    confirmDeleteBody: "「{title}」を削除します。元に戻すことはできません。",
    cancel: "キャンセル",
    delete: "削除",
    untitled: "新しい会話",
    errorTimeout: "接続がタイムアウトしました。再度お試しください。",
    errorUnavailable: "サービスが一時的に利用できません。しばらくしてから再度お試しください。",
    errorSessionExpired: "セッションがタイムアウトしました。新しいセッションを開始しました。もう一度送信してください。",
    errorNetwork: "サーバーに接続できませんでした。通信環境を確認して再度お試しください。",
    errorConnectionLost: "接続が切れ、返信を再開できませんでした。再度お試しください。",
    errorConflict: "前の返信をまだ作成中です。終わるまで待つか、停止してください。",
    errorTooLong: "メッセージが長すぎます。短くして再度お試しください。",
    errorGeneric: "エラーが発生しました。再度お試しください。",
    errorModel: "このモデルはこのエージェントでは使えません。別のモデルを選んで再度お試しください。",
    errorLoad: "この会話を読み込めませんでした。",
    replyFailed: "この返信は完了できませんでした。",
    errorSignedOut: "サインインの有効期限が切れました。もう一度サインインしてください。メッセージは入力欄に戻してあります。",
    errorRateLimited: "リクエストが多すぎます。少し待ってから再度お試しください。",
    errorQuota: "本日の利用上限に達しました。明日再度お試しください。",
    signInTitle: "Kaiwa にサインイン",
    signInBody: "このサーバーを使うにはサインインが必要です。",
    signInAgainBody: "サインインの有効期限が切れました。続けるにはもう一度サインインしてください。入力中のメッセージは保持されます。",
    signInProvider: "サインイン",
    signInOr: "または",
    apiKey: "API キー",
    apiKeyHint: "kaiwa keys create で作成したキー（kw_ で始まります）。",
    useApiKey: "API キーを使う",
    signingIn: "サインインしています…",
    signedInAs: "サインイン中",
    signOut: "サインアウト",
    errorKeyMissing: "API キーを入力してください。",
    errorKeyRejected: "この API キーは受け付けられませんでした。確認して再度お試しください。",
    errorSignInFailed: "サインインできませんでした。再度お試しください。",
    errorSignInDenied: "サインインはキャンセルされました。",
    errorSignInState: "このページが開始したサインインの応答ではないため、使用しませんでした。もう一度サインインしてください。",
    errorSignInNetwork: "サインインのサービスに接続できませんでした。通信環境を確認して再度お試しください。",
    errorSignInUnavailable: "このサーバーにはサインインページが設定されていません。管理者に API キーを依頼してください。",
    errorSignInNeedsHttps: "サインインするには、このページを https（または localhost）で開いてください。",
    errorSignInStorage: "このブラウザではサインインの途中経過を保存できません。サイトデータを許可して再度お試しください。",
  },
};

export const LANGUAGES = Object.keys(STRINGS);

let current = chooseLanguage();
const listeners = [];

function chooseLanguage() {
  const chosen = recall("language");
  if (chosen && STRINGS[chosen]) return chosen;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (STRINGS[base]) return base;
  }
  return "en";
}

export function language() {
  return current;
}

/** The text for `key` in the current language, with `{name}` placeholders filled in. */
export function t(key, values = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** Switches language (remembered for later visits) and re-translates the page. */
export function setLanguage(lang) {
  if (!STRINGS[lang] || lang === current) return;
  current = lang;
  remember("language", lang);
  translatePage();
  for (const listener of listeners) listener(lang);
}

export function onLanguageChange(listener) {
  listeners.push(listener);
}

/**
 * Fills every `data-i18n*` element under `root` with the current language's words;
 * `data-i18n-args` (JSON) fills their placeholders.
 */
export function translatePage(root = document) {
  document.documentElement.lang = current;
  const args = (element) => (element.dataset.i18nArgs ? JSON.parse(element.dataset.i18nArgs) : {});
  for (const element of root.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n, args(element));
  for (const element of root.querySelectorAll("[data-i18n-placeholder]")) element.placeholder = t(element.dataset.i18nPlaceholder);
  for (const element of root.querySelectorAll("[data-i18n-aria-label]")) {
    element.setAttribute("aria-label", t(element.dataset.i18nAriaLabel, args(element)));
  }
  for (const element of root.querySelectorAll("[data-i18n-title]")) element.title = t(element.dataset.i18nTitle, args(element));
}

/** Gives `element` the words for `key` now and whenever the language changes. */
export function translated(element, key, args) {
  element.dataset.i18n = key;
  if (args) element.dataset.i18nArgs = JSON.stringify(args);
  element.textContent = t(key, args);
  return element;
}

/** A short, local date for the conversation list: the time today, else the day. */
export function formatTime(isoDate) {
  const date = new Date(isoDate);
  if (Number.isNaN(date.getTime())) return "";
  const sameDay = date.toDateString() === new Date().toDateString();
  const options = sameDay ? { hour: "2-digit", minute: "2-digit" } : { month: "short", day: "numeric" };
  return new Intl.DateTimeFormat(current, options).format(date);
}
