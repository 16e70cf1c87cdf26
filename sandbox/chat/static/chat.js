// The Kameng sandbox chat page: one persona's chat with the bot, live over server-sent
// events. Messages arrive as JSON whose "html" the server already escaped and rendered
// (sandbox/chat/render.py); every other text goes in with textContent.
"use strict";

const TEXTS = {
  en: {
    brand: "Kameng sandbox", personas: "Who are you?", api_docs: "Reseller API docs",
    photo: "Photo", file: "File", start: "START", menu: "Menu",
    placeholder: "Message", account: "Account", balance: "Balance", spendable: "Spendable",
    credit_limit: "Credit limit", payable: "Supplier payable", level: "Level", roles: "Roles",
    status: "Status", unknown: "Not on the platform yet: press START.",
    telegram_saw: "What Telegram saw",
    log_hint: "Every Bot API call the bot made for this chat, newest first.",
    dark: "Dark", light: "Light", lang: "中文", live: "live", offline: "reconnecting…",
    edited: "edited", chatting_as: "you are", refused: "Telegram refused",
    injected: "injected", no_commands: "The bot set no commands for this chat.",
    role_reseller: "reseller", role_supplier: "supplier", role_admin: "admin",
    err_empty_text: "Type a message first.", err_text_too_long: "The message is too long.",
    err_message_gone: "That message is gone.", err_button_gone: "That button is gone.",
    err_file_too_large: "The file is over Telegram's size limit.",
    err_file_empty: "The file is empty.", err_not_an_image: "That is not an image.",
    err_network: "The sandbox did not answer.", err_other: "Refused: ",
    err_invoice_paid: "That invoice is paid already.", paid: "Paid",
    pay_declined: "The bot declined the payment: ", pay_timed_out: "The bot did not answer in time; nothing was paid.",
  },
  zh: {
    brand: "Kameng 沙盒", personas: "你是谁？", api_docs: "代理商 API 文档",
    photo: "图片", file: "文件", start: "开始", menu: "菜单",
    placeholder: "输入消息", account: "账户", balance: "余额", spendable: "可用",
    credit_limit: "信用额度", payable: "供货应付", level: "等级", roles: "角色",
    status: "状态", unknown: "尚未注册：点“开始”。",
    telegram_saw: "Telegram 收到的请求",
    log_hint: "机器人为此聊天发出的每个 Bot API 请求，最新在前。",
    dark: "深色", light: "浅色", lang: "English", live: "实时", offline: "重新连接…",
    edited: "已编辑", chatting_as: "你是", refused: "Telegram 拒绝了",
    injected: "注入", no_commands: "机器人没有为此聊天设置命令。",
    role_reseller: "代理", role_supplier: "供货商", role_admin: "管理员",
    err_empty_text: "请先输入消息。", err_text_too_long: "消息太长。",
    err_message_gone: "这条消息已不存在。", err_button_gone: "这个按钮已不存在。",
    err_file_too_large: "文件超过 Telegram 的大小限制。",
    err_file_empty: "文件是空的。", err_not_an_image: "这不是图片。",
    err_network: "沙盒没有响应。", err_other: "被拒绝：",
    err_invoice_paid: "这张账单已经支付。", paid: "已支付",
    pay_declined: "机器人拒绝了这笔支付：", pay_timed_out: "机器人没有及时回应，未付款。",
  },
};
const SAFE_URL = /^(https?:\/\/|tg:\/\/)/i;
const MAX_LOG = 300;

const $ = (id) => document.getElementById(id);
const state = {
  lang: localStorage.getItem("kameng.lang") ||
    ((navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en"),
  theme: localStorage.getItem("kameng.theme"), // null: follow the system
  personas: [],
  persona: null,
  source: null,
  commands: [],
  started: true,
  stick: true, // the reader is at the bottom of the chat: keep them there as it grows
};

function t(key) {
  return (TEXTS[state.lang] && TEXTS[state.lang][key]) || TEXTS.en[key] || key;
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

// -- chrome: language and theme -----------------------------------------------------------

function applyLanguage() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  $("lang-toggle").textContent = t("lang");
  $("api-docs-link").href = "/api-docs?lang=" + state.lang;
  renderPersonas();
  renderTitle();
  renderTheme();
}

function systemDark() {
  return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
}

function renderTheme() {
  const dark = state.theme ? state.theme === "dark" : systemDark();
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  $("theme-toggle").textContent = dark ? "☀ " + t("light") : "☾ " + t("dark");
}

// -- personas ------------------------------------------------------------------------------

function personaTitle(persona) {
  return state.lang === "zh" ? persona.title_zh : persona.title_en;
}

function renderPersonas() {
  const list = $("persona-list");
  list.replaceChildren();
  for (const persona of state.personas) {
    const button = el("button", {
      type: "button", class: "persona", "data-testid": "persona",
      "data-persona": persona.key,
    });
    button.append(el("span", { class: "avatar small" }, persona.first_name.slice(0, 1)));
    const words = el("span", { class: "words" });
    words.append(el("strong", {}, personaTitle(persona)));
    words.append(el("small", {}, persona.first_name + (persona.username ? " @" + persona.username : "")));
    button.append(words);
    if (state.persona && persona.key === state.persona.key) button.classList.add("current");
    button.addEventListener("click", () => choosePersona(persona.key));
    const item = el("li");
    item.append(button);
    list.append(item);
  }
}

function renderTitle() {
  if (!state.persona) return;
  $("chat-title").textContent = t("chatting_as") + " " + personaTitle(state.persona) +
    " · " + state.persona.first_name;
}

function choosePersona(key) {
  const persona = state.personas.find((p) => p.key === key) || state.personas[0];
  if (!persona) return;
  state.persona = persona;
  if (location.hash !== "#" + persona.key) history.replaceState(null, "", "#" + persona.key);
  document.body.classList.remove("show-personas", "show-panel");
  renderPersonas();
  renderTitle();
  connect();
}

// -- the live stream -----------------------------------------------------------------------

function connect() {
  if (state.source) state.source.close();
  resetChat();
  const source = new EventSource(`/api/personas/${encodeURIComponent(state.persona.key)}/events`);
  state.source = source;
  source.addEventListener("snapshot", (event) => { resetChat(); apply(JSON.parse(event.data)); });
  source.addEventListener("update", (event) => apply(JSON.parse(event.data)));
  source.addEventListener("open", () => setConnection(true));
  source.addEventListener("error", () => setConnection(false));
}

function setConnection(live) {
  const node = $("connection");
  node.textContent = live ? "● " + t("live") : "○ " + t("offline");
  node.className = "connection " + (live ? "live" : "offline");
  node.dataset.state = live ? "live" : "offline";
}

function resetChat() {
  $("messages").replaceChildren();
  $("call-log").replaceChildren();
  state.commands = [];
  renderReplyKeyboard(null);
  hideMenus();
}

function apply(update) {
  const box = $("messages");
  for (const view of update.messages || []) placeMessage(view);
  for (const id of update.deleted || []) {
    const node = box.querySelector(`[data-message-id="${id}"]`);
    if (node) node.remove();
  }
  for (const refused of update.refused || []) placeRefused(refused);
  for (const call of update.calls || []) logCall(call);
  if ("reply_keyboard" in update) renderReplyKeyboard(update.reply_keyboard);
  if ("commands" in update) state.commands = update.commands || [];
  if ("started" in update) state.started = update.started;
  if ("panel" in update) renderPanel(update.panel);
  for (const toast of update.toasts || []) showToast(toast.text, toast.alert);
  $("start-bar").hidden = state.started;
  $("composer").hidden = !state.started;
  $("menu-button").hidden = state.commands.length === 0;
  if (state.stick || update.messages) scrollDown();
}

function scrollDown() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
  state.stick = true;
}

// Items are ordered by a key: a message by its id, a refused call just after the message
// that was the newest when Telegram refused it.
function insertOrdered(node, key) {
  node.dataset.order = String(key);
  const box = $("messages");
  for (const other of box.children) {
    if (other !== node && Number(other.dataset.order) > key) {
      box.insertBefore(node, other);
      return;
    }
  }
  box.append(node);
}

function placeMessage(view) {
  const node = renderMessage(view);
  const old = $("messages").querySelector(`[data-message-id="${view.id}"]`);
  if (old) {
    // keep spoilers the reader already revealed
    if (old.querySelector(".spoiler.revealed")) {
      for (const s of node.querySelectorAll(".spoiler")) s.classList.add("revealed");
    }
    old.replaceWith(node);
    node.dataset.order = String(view.id);
  } else {
    insertOrdered(node, view.id);
  }
}

function timeOf(seconds) {
  const date = new Date(seconds * 1000);
  return date.toLocaleTimeString(state.lang === "zh" ? "zh-CN" : "en", { hour: "2-digit", minute: "2-digit" });
}

function renderMessage(view) {
  const node = el("div", {
    class: "message " + (view.from_bot ? "bot" : "me"), "data-testid": "message",
    "data-message-id": String(view.id), "data-from": view.from_bot ? "bot" : "user",
  });
  if (view.edited) node.dataset.edited = "true";
  const bubble = el("div", { class: "bubble" });
  if (view.photo) {
    const image = el("img", {
      class: "photo", "data-testid": "photo", src: view.photo.url, alt: "photo",
    });
    if (view.photo.width && view.photo.height) { // room for it before it loads
      image.width = Math.min(view.photo.width, 480);
      image.height = Math.round((view.photo.height * image.width) / view.photo.width);
    }
    image.addEventListener("load", () => { if (state.stick) scrollDown(); });
    bubble.append(image);
  }
  if (view.document) {
    const link = el("a", {
      class: "document", "data-testid": "document", href: view.document.url,
      download: view.document.name,
    });
    link.append(el("span", { class: "doc-icon" }, "📄"));
    const words = el("span", {});
    words.append(el("strong", {}, view.document.name));
    words.append(el("small", {}, sizeOf(view.document.size)));
    link.append(words);
    bubble.append(link);
  }
  if (view.invoice) {
    const card = el("div", { class: "invoice", "data-testid": "invoice" });
    card.append(el("strong", {}, view.invoice.title));
    card.append(el("div", {}, view.invoice.description));
    const price = view.invoice.currency === "XTR"
      ? `⭐ ${view.invoice.total_amount}` : `${view.invoice.total_amount} ${view.invoice.currency}`;
    card.append(el("div", { class: "price" }, price));
    if (view.invoice.paid) card.append(el("div", { class: "chip", "data-testid": "invoice-paid" }, t("paid")));
    bubble.append(card);
  }
  if (view.html) {
    const text = el("div", { class: "text", "data-testid": "message-text" });
    text.innerHTML = view.html; // escaped and rendered by the server (render.py)
    bubble.append(text);
  }
  const meta = el("div", { class: "meta" });
  if (view.edited) meta.append(el("span", { class: "edited", "data-testid": "edited-mark" }, t("edited")));
  meta.append(el("time", {}, timeOf(view.date)));
  bubble.append(meta);
  node.append(bubble);
  const payable = !(view.invoice && view.invoice.paid);
  if (view.buttons && view.buttons.length && payable) node.append(renderInlineKeyboard(view));
  return node;
}

function sizeOf(bytes) {
  if (bytes < 1024) return bytes + " B";
  if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
  return (bytes / 1024 / 1024).toFixed(1) + " MB";
}

function renderInlineKeyboard(view) {
  const keyboard = el("div", { class: "inline-keyboard", "data-testid": "inline-keyboard" });
  view.buttons.forEach((row, r) => {
    const line = el("div", { class: "row" });
    row.forEach((button, c) => {
      let node;
      if (button.kind === "pay") {
        node = el("button", {
          type: "button", class: "button pay", "data-testid": "pay-button",
        }, button.text);
        node.addEventListener("click", () => payInvoice(view.id, node));
      } else if (button.kind === "url" && SAFE_URL.test(button.url)) {
        node = el("a", {
          class: "button url", "data-testid": "url-button", href: button.url,
          target: "_blank", rel: "noopener noreferrer",
        }, button.text);
      } else {
        node = el("button", {
          type: "button", class: "button", "data-testid": "inline-button",
          "data-row": String(r), "data-column": String(c),
        }, button.text);
        node.addEventListener("click", () => press(view.id, r, c, node));
      }
      line.append(node);
    });
    keyboard.append(line);
  });
  return keyboard;
}

function placeRefused(refused) {
  const node = el("div", { class: "refused", "data-testid": "refused-call" });
  const error = refused.error;
  node.append(el("strong", {}, `⛔ ${t("refused")} ${refused.method}: ${error.code}`));
  node.append(el("span", {}, " " + error.description + (error.injected ? ` (${t("injected")})` : "")));
  node.append(el("code", {}, refused.params));
  insertOrdered(node, refused.after + 0.5);
}

function logCall(call) {
  const list = $("call-log");
  const item = el("li", { class: call.error ? "call failed" : "call", "data-testid": "call" });
  item.append(el("code", { class: "method" }, call.method));
  if (call.error) item.append(el("span", { class: "code" }, ` ${call.error.code} ${call.error.description}`));
  item.append(el("span", { class: "params" }, call.params));
  list.prepend(item);
  while (list.children.length > MAX_LOG) list.lastChild.remove();
}

function renderReplyKeyboard(rows) {
  const board = $("reply-keyboard");
  board.replaceChildren();
  board.hidden = !rows || rows.length === 0;
  for (const row of rows || []) {
    const line = el("div", { class: "row" });
    for (const label of row) {
      const button = el("button", { type: "button", class: "button", "data-testid": "reply-button" }, label);
      button.addEventListener("click", () => sendText(label));
      line.append(button);
    }
    board.append(line);
  }
}

function renderPanel(panel) {
  const known = panel && panel.known;
  $("panel-unknown").hidden = !!known;
  $("panel-facts").hidden = !known;
  if (!known) return;
  $("balance").textContent = panel.balance;
  $("spendable").textContent = panel.spendable;
  $("credit-limit").textContent = panel.credit_limit || "";
  $("credit-limit").hidden = $("credit-limit-label").hidden = !panel.credit_limit;
  $("payable").textContent = panel.payable || "";
  $("payable").hidden = $("payable-label").hidden = !panel.payable;
  $("level").textContent = panel.level;
  const roles = $("roles");
  roles.replaceChildren();
  for (const role of panel.roles) roles.append(el("span", { class: "chip", "data-role": role }, t("role_" + role)));
  $("status").textContent = panel.status;
}

// -- acting as the persona -----------------------------------------------------------------

async function post(path, body, isForm) {
  const url = `/api/personas/${encodeURIComponent(state.persona.key)}/${path}`;
  let response;
  try {
    response = await fetch(url, isForm ? { method: "POST", body } : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
  } catch (error) {
    showToast(t("err_network"), false, true);
    return null;
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const code = (answer.error && answer.error.code) || String(response.status);
    const known = TEXTS.en["err_" + code];
    showToast(known ? t("err_" + code) : t("err_other") + code, false, true);
    return null;
  }
  return answer;
}

async function sendText(text) {
  hideMenus();
  return post("messages", { text });
}

async function press(messageId, row, column, node) {
  node.classList.add("pressed");
  await post("press", { message_id: messageId, row, column });
  setTimeout(() => node.classList.remove("pressed"), 300);
}

async function payInvoice(messageId, node) {
  node.disabled = true;
  const answer = await post("pay", { message_id: messageId });
  node.disabled = false;
  if (!answer) return;
  if (answer.status === "declined") showToast(t("pay_declined") + (answer.error_message || ""), false, true);
  if (answer.status === "timed_out") showToast(t("pay_timed_out"), false, true);
}

async function sendFile(input, as) {
  const file = input.files && input.files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file, file.name);
  form.append("as", as);
  const caption = $("message-input").value.trim();
  if (caption) form.append("caption", caption);
  const done = await post("files", form, true);
  if (done) $("message-input").value = "";
  input.value = "";
  hideMenus();
}

// -- menus, toasts, alerts -----------------------------------------------------------------

function hideMenus() {
  $("command-menu").hidden = true;
  $("attach-menu").hidden = true;
}

function showCommandMenu(filter) {
  const menu = $("command-menu");
  menu.replaceChildren();
  const wanted = (filter || "").toLowerCase();
  const shown = state.commands.filter((c) => ("/" + c.command).startsWith(wanted || "/"));
  if (state.commands.length === 0) menu.append(el("p", { class: "hint" }, t("no_commands")));
  for (const command of shown) {
    const item = el("button", { type: "button", class: "command-item", "data-testid": "command-item", "data-command": command.command });
    item.append(el("strong", {}, "/" + command.command));
    item.append(el("span", {}, command.description));
    item.addEventListener("click", () => { $("message-input").value = ""; sendText("/" + command.command); });
    menu.append(item);
  }
  menu.hidden = shown.length === 0 && state.commands.length !== 0;
}

function showToast(text, alert, failed) {
  if (alert) {
    $("alert-text").textContent = text;
    const dialog = $("alert-dialog");
    if (!dialog.open) dialog.showModal();
    return;
  }
  const toast = el("div", { class: failed ? "toast failed" : "toast", "data-testid": failed ? "page-error" : "toast" }, text);
  $("toasts").append(toast);
  setTimeout(() => toast.remove(), 4000);
}

// -- wiring --------------------------------------------------------------------------------

function wire() {
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("message-input");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    sendText(text);
  });
  $("message-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("message-input").addEventListener("input", (event) => {
    const value = event.target.value;
    if (value.startsWith("/") && !value.includes(" ")) showCommandMenu(value);
    else $("command-menu").hidden = true;
  });
  $("menu-button").addEventListener("click", () => {
    if ($("command-menu").hidden) showCommandMenu(""); else hideMenus();
  });
  $("attach-button").addEventListener("click", () => { $("attach-menu").hidden = !$("attach-menu").hidden; });
  $("attach-photo").addEventListener("click", () => $("photo-input").click());
  $("attach-document").addEventListener("click", () => $("document-input").click());
  $("photo-input").addEventListener("change", (e) => sendFile(e.target, "photo"));
  $("document-input").addEventListener("change", (e) => sendFile(e.target, "document"));
  $("start-button").addEventListener("click", () => sendText("/start"));
  $("messages").addEventListener("scroll", () => {
    const box = $("messages");
    state.stick = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  });
  $("messages").addEventListener("click", (event) => {
    const spoiler = event.target.closest(".spoiler");
    if (spoiler) { spoiler.classList.add("revealed"); return; }
    const command = event.target.closest("a.command");
    if (command) { event.preventDefault(); sendText(command.dataset.command); }
  });
  $("theme-toggle").addEventListener("click", () => {
    state.theme = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    localStorage.setItem("kameng.theme", state.theme);
    renderTheme();
  });
  $("lang-toggle").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem("kameng.lang", state.lang);
    applyLanguage();
  });
  $("open-personas").addEventListener("click", () => document.body.classList.toggle("show-personas"));
  $("open-panel").addEventListener("click", () => document.body.classList.toggle("show-panel"));
  $("close-panel").addEventListener("click", () => document.body.classList.remove("show-panel"));
  if (window.matchMedia) {
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", renderTheme);
  }
  window.addEventListener("hashchange", () => {
    const key = location.hash.slice(1);
    if (key && (!state.persona || key !== state.persona.key)) choosePersona(key);
  });
}

async function main() {
  wire();
  const answer = await (await fetch("/api/personas")).json();
  state.personas = answer.personas;
  $("bot-name").textContent = answer.bot.first_name + (answer.bot.username ? " · @" + answer.bot.username : "");
  applyLanguage();
  choosePersona(location.hash.slice(1));
}

document.addEventListener("DOMContentLoaded", main);
