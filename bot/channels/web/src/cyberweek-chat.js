/*
 * Cyber Security Week Assistant — website chat widget (网络安全宣传周智能助手).
 *
 * Embed with one script tag, configured by an optional object set before it:
 *
 *   <script>
 *     window.CyberweekChatConfig = { lang: "zh", title: { zh: "宣传周智能助手", en: "Assistant" } };
 *   </script>
 *   <script src="https://ASSISTANT/webhooks/socketio/widget/cyberweek-chat.js" defer></script>
 *
 * Options: serverUrl (default: the origin this script came from), socketPath ("/socket.io"),
 * lang ("zh" | "en"; default: the page's <html lang>), title (string or {zh, en}), open (bool).
 *
 * Talks to Rasa's socket.io channel (events user_uttered / bot_uttered, session_persistence).
 * The server issues the session id and a signed token (session_request -> session_confirm);
 * both and the chat's history live in sessionStorage, so closing the tab (a kiosk at the
 * venue) ends the conversation for the next visitor; "新对话 / New chat" ends it at once.
 * Safety: every text from the bot or the user is put in the page with textContent; links are
 * built as <a> elements, http(s) only. Nothing is ever parsed as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var BASE = script && script.src ? script.src.replace(/[^/]*$/, "") : "";
  var STORE = "cyberweek-chat:";
  var MAX_HISTORY = 100;
  var MAX_INPUT = 1000;
  var TYPING_TIMEOUT_MS = 20000;

  var TEXT = {
    zh: {
      title: "宣传周智能助手",
      launcher: "智能助手",
      close: "关闭对话",
      newChat: "新对话",
      newChatLabel: "新对话：清除本页的聊天记录，重新开始",
      otherLang: "en",
      langButton: "English",
      placeholder: "请输入您的问题…",
      inputLabel: "您的问题",
      send: "发送",
      you: "您：",
      bot: "助手：",
      typing: "助手正在输入…",
      staffTyping: "{name} 正在输入…",
      helpful: "这个回答有帮助",
      unhelpful: "这个回答没有帮助",
      thanks: "感谢您的反馈",
      staff: "工作人员 {name}：",
      handoffWaiting: "正在等待工作人员接入…",
      handoffOpen: "工作人员 {name} 正在为您服务",
      suggestions: "建议的问题",
      connecting: "正在连接…",
      online: "在线",
      offline: "连接中断，正在重新连接…",
      busy: "连接过于频繁，稍后自动重试…",
      welcome: "您好！我是2024年国家网络安全宣传周智能助手，可以回答日程、场馆、主题日、论坛和招聘等问题。",
      topics: [
        ["日程", "/ask_schedule"],
        ["场馆", "/ask_venue"],
        ["主题日", "/ask_theme_day"],
        ["招聘", "/ask_recruitment"]
      ]
    },
    en: {
      title: "Cyber Security Week Assistant",
      launcher: "Ask the assistant",
      close: "Close the chat",
      newChat: "New chat",
      newChatLabel: "New chat: clear this conversation and start again",
      otherLang: "zh-CN",
      langButton: "中文",
      placeholder: "Type your question…",
      inputLabel: "Your question",
      send: "Send",
      you: "You: ",
      bot: "Assistant: ",
      typing: "The assistant is typing…",
      staffTyping: "{name} is typing…",
      helpful: "This answer helped",
      unhelpful: "This answer did not help",
      thanks: "Thank you for the feedback",
      staff: "{name} (staff): ",
      handoffWaiting: "Waiting for a member of staff…",
      handoffOpen: "{name} from the help desk is with you",
      suggestions: "Suggested questions",
      connecting: "Connecting…",
      online: "Online",
      offline: "Connection lost, reconnecting…",
      busy: "Too many connections — retrying shortly…",
      welcome: "Hello! I answer questions about the 2024 National Cyber Security Publicity Week: schedule, venues, theme days, forums and jobs.",
      topics: [
        ["Schedule", "/ask_schedule"],
        ["Venues", "/ask_venue"],
        ["Theme days", "/ask_theme_day"],
        ["Jobs", "/ask_recruitment"]
      ]
    }
  };

  // ---- storage (may be disabled: then the widget works without memory) ----
  // The conversation (session, token, history, handoff state) lives in sessionStorage: gone
  // with the tab. Only preferences (language, panel open) stay in localStorage.

  var CONVERSATION_KEYS = ["session", "token", "history", "handoff", "desk_since"];

  function storageFor(key) {
    try {
      return CONVERSATION_KEYS.indexOf(key) >= 0 ? window.sessionStorage : window.localStorage;
    } catch (e) {
      return null; // storage blocked by the browser's settings
    }
  }

  function load(key, fallback) {
    try {
      var value = storageFor(key).getItem(STORE + key);
      return value === null ? fallback : JSON.parse(value);
    } catch (e) {
      return fallback;
    }
  }

  function save(key, value) {
    try {
      storageFor(key).setItem(STORE + key, JSON.stringify(value));
    } catch (e) {
      /* private mode or full: keep going */
    }
  }

  function forget(keys, area) {
    keys.forEach(function (key) {
      try {
        (area || storageFor(key)).removeItem(STORE + key);
      } catch (e) {
        /* nothing stored */
      }
    });
  }

  /* Earlier versions kept the chat in localStorage, for good: a kiosk showed it to everyone. */
  function forgetLongTermChat() {
    try {
      forget(CONVERSATION_KEYS, window.localStorage);
    } catch (e) {
      /* storage blocked */
    }
  }

  function oneOf(value, allowed) {
    return allowed.indexOf(value) >= 0 ? value : null;
  }

  function pageLang() {
    var lang = (document.documentElement.lang || navigator.language || "zh").toLowerCase();
    return lang.indexOf("en") === 0 ? "en" : "zh";
  }

  // ---- DOM helpers: elements and text nodes only ----

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else if (name === "hidden") node.hidden = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) {
      node.appendChild(child);
    });
    return node;
  }

  var URL_PATTERN = /https?:\/\/[^\s<>"'，。；！？）》」]+/g;
  var TRAILING_PUNCTUATION = /[.,;:!?)\]}'"]+$/;

  /* Text with its http(s) links as <a> elements; everything else stays a text node. */
  function linkified(text) {
    var fragment = document.createDocumentFragment();
    var last = 0;
    text.replace(URL_PATTERN, function (match, offset) {
      var url = match.replace(TRAILING_PUNCTUATION, "");
      var href = safeHref(url);
      if (!href) return match;
      fragment.appendChild(document.createTextNode(text.slice(last, offset)));
      fragment.appendChild(
        el("a", { href: href, target: "_blank", rel: "noopener noreferrer nofollow", text: url })
      );
      last = offset + url.length;
      return match;
    });
    fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  function safeHref(candidate) {
    try {
      var url = new URL(candidate);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  /* A speech bubble, drawn rather than an emoji: phones and servers lack emoji fonts. */
  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("class", "cwc-launcher-icon");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  // ---- the widget ----

  function Widget(config) {
    this.config = config;
    this.serverUrl = config.serverUrl || (BASE ? new URL(BASE).origin : window.location.origin);
    this.lang = oneOf(load("lang", null), ["zh", "en"]) || oneOf(config.lang, ["zh", "en"]) || pageLang();
    forgetLongTermChat();
    // the server's session and its token, once it issued them (null: ask for a new one)
    var stored = load("session", null);
    this.sessionId = typeof stored === "string" && /^[A-Za-z0-9_-]{8,64}$/.test(stored) ? stored : null;
    var token = load("token", null);
    this.token = typeof token === "string" ? token : null;
    this.history = load("history", []);
    if (!Array.isArray(this.history)) this.history = [];
    this.ready = false; // session confirmed on the current connection
    this.queue = []; // messages typed before that
    this.typingTimer = null;
    // {status: "waiting" | "open", staff}: a person has (or will have) this conversation, so
    // the bot stays silent and no "assistant is typing" may be shown.
    this.handoff = load("handoff", null);
    this.build();
    this.renderHistory();
    this.setLanguage(this.lang);
    if (load("open", !!config.open)) this.open(false);
    this.connect();
  }

  Widget.prototype.t = function (key) {
    return TEXT[this.lang][key];
  };

  Widget.prototype.format = function (key, name) {
    return this.t(key).replace("{name}", String(name || "").slice(0, 64));
  };

  Widget.prototype.build = function () {
    var ids = "cwc-" + Math.random().toString(36).slice(2, 8);
    this.launcher = el("button", {
      type: "button",
      class: "cwc-launcher",
      "aria-expanded": "false",
      "aria-controls": ids + "-panel"
    });
    this.launcherLabel = el("span", { class: "cwc-launcher-label" });
    this.launcher.appendChild(chatIcon());
    this.launcher.appendChild(this.launcherLabel);

    this.title = el("h2", { id: ids + "-title", class: "cwc-title" });
    this.status = el("p", { class: "cwc-status", role: "status" });
    this.langButton = el("button", { type: "button", class: "cwc-lang" });
    this.closeButton = el("button", { type: "button", class: "cwc-close", text: "×" });
    this.newButton = el("button", { type: "button", class: "cwc-new" });
    var header = el("header", { class: "cwc-header" }, [
      el("div", { class: "cwc-heading" }, [this.title, this.status]),
      this.newButton,
      this.langButton,
      this.closeButton
    ]);

    this.log = el("div", {
      class: "cwc-log",
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      tabindex: "0"
    });
    this.handoffBanner = el("p", { class: "cwc-handoff", role: "status", hidden: true });
    this.typing = el("div", { class: "cwc-typing", hidden: true }, [
      el("span", { class: "cwc-dots", "aria-hidden": "true" }, [el("i"), el("i"), el("i")]),
      el("span", { class: "cwc-typing-text" })
    ]);
    this.suggestions = el("div", { class: "cwc-suggestions", role: "group" });

    this.input = el("input", {
      id: ids + "-input",
      class: "cwc-input",
      type: "text",
      maxlength: String(MAX_INPUT),
      autocomplete: "off",
      enterkeyhint: "send"
    });
    this.inputLabel = el("label", { for: ids + "-input", class: "cwc-sr-only" });
    this.sendButton = el("button", { type: "submit", class: "cwc-send" });
    this.form = el("form", { class: "cwc-form" }, [this.inputLabel, this.input, this.sendButton]);

    this.panel = el(
      "section",
      { id: ids + "-panel", class: "cwc-panel", "aria-labelledby": ids + "-title", hidden: true },
      [header, this.handoffBanner, this.log, this.typing, this.suggestions, this.form]
    );
    this.root = el("div", { class: "cwc-root" }, [this.panel, this.launcher]);
    this.attach();

    var self = this;
    this.launcher.addEventListener("click", function () {
      self.panel.hidden ? self.open(true) : self.close();
    });
    this.closeButton.addEventListener("click", function () {
      self.close();
    });
    this.newButton.addEventListener("click", function () {
      self.startOver();
    });
    this.langButton.addEventListener("click", function () {
      self.setLanguage(self.lang === "zh" ? "en" : "zh");
      save("lang", self.lang);
    });
    this.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") self.close();
    });
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = self.input.value.trim();
      if (!text) return;
      self.input.value = "";
      self.send(text, text);
    });
  };

  /* Inside a shadow root: the page's CSS cannot restyle the widget, nor the widget the page. */
  Widget.prototype.attach = function () {
    var host = el("div", { class: "cyberweek-chat" });
    var shadow = host.attachShadow({ mode: "open" });
    var root = this.root;
    if (BASE) {
      root.style.visibility = "hidden"; // until styled, so it never flashes unstyled
      var show = function () {
        root.style.visibility = "";
      };
      var css = el("link", { rel: "stylesheet", href: BASE + "cyberweek-chat.css" });
      css.addEventListener("load", show);
      css.addEventListener("error", show);
      shadow.appendChild(css);
    }
    shadow.appendChild(root);
    document.body.appendChild(host);
  };

  Widget.prototype.setLanguage = function (lang) {
    this.lang = lang;
    var title = this.config.title;
    this.root.setAttribute("lang", lang === "zh" ? "zh-CN" : "en");
    this.title.textContent = (title && (typeof title === "string" ? title : title[lang])) || this.t("title");
    this.launcherLabel.textContent = this.t("launcher");
    this.closeButton.setAttribute("aria-label", this.t("close"));
    this.newButton.textContent = this.t("newChat");
    this.newButton.setAttribute("aria-label", this.t("newChatLabel"));
    this.langButton.textContent = this.t("langButton");
    this.langButton.setAttribute("lang", this.t("otherLang")); // a screen reader says "English" in English
    this.input.placeholder = this.t("placeholder");
    this.inputLabel.textContent = this.t("inputLabel");
    this.sendButton.textContent = this.t("send");
    this.typing.lastChild.textContent = this.t("typing");
    this.suggestions.setAttribute("aria-label", this.t("suggestions"));
    this.showStatus(this.statusKey || "connecting");
    this.renderHandoff();
    this.renderSuggestions();
    if (this.welcome) {
      this.welcome.firstChild.textContent = this.t("bot");
      this.welcome.lastChild.textContent = this.t("welcome");
      this.welcome.lastChild.lang = this.root.getAttribute("lang");
    }
  };

  Widget.prototype.open = function (focus) {
    this.panel.hidden = false;
    this.root.classList.add("cwc-is-open");
    this.launcher.setAttribute("aria-expanded", "true");
    save("open", true);
    this.scrollToEnd();
    if (focus) this.input.focus();
  };

  Widget.prototype.close = function () {
    this.panel.hidden = true;
    this.root.classList.remove("cwc-is-open");
    this.launcher.setAttribute("aria-expanded", "false");
    save("open", false);
    this.launcher.focus();
  };

  Widget.prototype.showStatus = function (key) {
    this.statusKey = key;
    this.status.textContent = this.t(key);
    this.root.setAttribute("data-status", key);
  };

  // ---- messages ----

  Widget.prototype.renderHistory = function () {
    if (this.history.length === 0) {
      this.welcome = this.renderMessage({ from: "bot", text: TEXT[this.lang].welcome }, true);
      this.welcome.classList.add("cwc-welcome");
    }
    for (var i = 0; i < this.history.length; i++) this.renderMessage(this.history[i], false);
  };

  Widget.prototype.renderMessage = function (message, isWelcome) {
    var who = message.from === "user" || message.from === "staff" ? message.from : "bot";
    var text = String(message.text);
    // Each message says its own language, so that screen readers pronounce it right.
    var body = el("span", { class: "cwc-text", lang: /[\u3400-\u9fff]/.test(text) ? "zh-CN" : "en" });
    body.appendChild(who === "bot" ? linkified(text) : document.createTextNode(text));
    var speaker = TEXT[this.lang][who === "user" ? "you" : who];
    var label = el("span", { class: "cwc-sr-only", text: speaker });
    if (who === "staff") {
      // staff replies name who wrote them, visibly (the visitor should know a person answers)
      label = el("span", { class: "cwc-speaker", text: this.format("staff", message.name) });
    }
    var row = el("div", { class: "cwc-msg cwc-msg-" + who }, [label, body]);
    if (who === "bot" && !isWelcome) row.appendChild(this.feedbackButtons(message));
    this.log.appendChild(row);
    if (!isWelcome) this.scrollToEnd();
    return row;
  };

  /* 👍/👎 under a bot answer: tells the help desk which answers did not help (once each). */
  Widget.prototype.feedbackButtons = function (message) {
    var self = this;
    var group = el("div", { class: "cwc-feedback", role: "group" });
    var buttons = [true, false].map(function (helpful) {
      var button = el("button", {
        type: "button",
        class: "cwc-feedback-button",
        text: helpful ? "👍" : "👎",
        "aria-label": self.t(helpful ? "helpful" : "unhelpful"),
        "aria-pressed": String(message.feedback === helpful)
      });
      button.addEventListener("click", function () {
        if (typeof message.feedback === "boolean") return;
        message.feedback = helpful;
        save("history", self.history);
        buttons.forEach(function (b) {
          b.disabled = true;
        });
        button.setAttribute("aria-pressed", "true");
        group.setAttribute("aria-label", self.t("thanks"));
        self.sendFeedback(message, helpful);
      });
      return button;
    });
    buttons.forEach(function (b) {
      b.disabled = typeof message.feedback === "boolean";
      group.appendChild(b);
    });
    return group;
  };

  Widget.prototype.sendFeedback = function (message, helpful) {
    var index = this.history.indexOf(message);
    var question = "";
    for (var i = index - 1; i >= 0; i--) {
      if (this.history[i].from === "user") {
        question = this.history[i].text;
        break;
      }
    }
    if (!this.ready) return; // feedback is a hint, not worth queueing across a reconnect
    this.socket.emit("feedback", {
      helpful: helpful,
      answer: String(message.text).slice(0, 500),
      question: String(question).slice(0, 500)
    });
  };

  Widget.prototype.remember = function (message) {
    this.history.push(message);
    if (this.history.length > MAX_HISTORY) this.history = this.history.slice(-MAX_HISTORY);
    save("history", this.history);
  };

  Widget.prototype.scrollToEnd = function () {
    this.log.scrollTop = this.log.scrollHeight;
  };

  /* Buttons of the latest bot message if it had any, else the four topics of the week. */
  Widget.prototype.renderSuggestions = function () {
    this.suggestions.hidden = !!this.handoff; // topic buttons would only reach staff as "/ask_…"
    var latest = this.history.length ? this.history[this.history.length - 1] : null;
    var buttons = latest && latest.from === "bot" && Array.isArray(latest.buttons) && latest.buttons.length
      ? latest.buttons
      : TEXT[this.lang].topics.map(function (topic) {
          return { title: topic[0], payload: topic[1] };
        });
    var self = this;
    this.suggestions.textContent = "";
    buttons.forEach(function (button) {
      var node = el("button", { type: "button", class: "cwc-chip", text: button.title });
      node.addEventListener("click", function () {
        self.send(button.title, button.payload);
        self.input.focus();
      });
      self.suggestions.appendChild(node);
    });
  };

  Widget.prototype.send = function (shown, payload) {
    var text = String(shown).slice(0, MAX_INPUT);
    var message = { from: "user", text: text };
    this.renderMessage(message, false);
    this.remember(message);
    this.renderSuggestions();
    if (!this.handoff) this.setTyping(true); // while staff have the chat, the bot is silent
    // no session id: the server sends it to the session this socket holds
    var data = {
      message: String(payload).slice(0, MAX_INPUT),
      metadata: { language: this.lang }
    };
    if (this.ready) this.socket.emit("user_uttered", data);
    else this.queue.push(data);
  };

  Widget.prototype.receive = function (data) {
    if (!data || typeof data !== "object" || this.startingOver) return;
    if (typeof data.at === "number") {
      // a message from the desk: skip one already shown (a replay racing the live push)
      if (data.at <= load("desk_since", 0)) return;
      save("desk_since", data.at);
    }
    if (data.handoff && typeof data.handoff === "object") this.setHandoff(data.handoff);
    var text = typeof data.text === "string" ? data.text : "";
    if (text && data.staff && typeof data.staff.name === "string") {
      this.setTyping(false);
      var said = { from: "staff", name: data.staff.name, text: text };
      this.renderMessage(said, false);
      this.remember(said);
      this.renderSuggestions();
      return;
    }
    var attachment = data.attachment && data.attachment.payload;
    if (!text && attachment && typeof attachment.src === "string" && safeHref(attachment.src)) {
      text = attachment.src; // an image arrives as its link (rendered safely like any text)
    }
    var buttons = (Array.isArray(data.quick_replies) ? data.quick_replies : data.buttons || [])
      .filter(function (b) {
        return b && typeof b.title === "string" && typeof b.payload === "string";
      })
      .map(function (b) {
        return { title: b.title, payload: b.payload };
      });
    if (!text && !buttons.length) return;
    this.setTyping(false);
    var message = { from: "bot", text: text, buttons: buttons };
    if (text) this.renderMessage(message, false);
    this.remember(message);
    this.renderSuggestions();
  };

  Widget.prototype.setHandoff = function (state) {
    var status = oneOf(state.status, ["waiting", "open", "closed"]);
    if (!status) return;
    var name = typeof state.staff === "string" ? state.staff.slice(0, 64) : "";
    if (status === "closed") {
      this.handoff = null;
      this.setTyping(false);
    } else {
      this.handoff = { status: status, staff: name || (this.handoff && this.handoff.staff) || "" };
      if (state.typing === true) this.setTyping(true, this.format("staffTyping", this.handoff.staff));
      else this.setTyping(false);
    }
    save("handoff", this.handoff);
    this.renderHandoff();
    this.renderSuggestions();
  };

  Widget.prototype.renderHandoff = function () {
    var state = this.handoff;
    this.handoffBanner.hidden = !state;
    if (!state) return;
    this.handoffBanner.textContent =
      state.status === "open" && state.staff ? this.format("handoffOpen", state.staff) : this.t("handoffWaiting");
  };

  Widget.prototype.setTyping = function (on, label) {
    var self = this;
    clearTimeout(this.typingTimer);
    this.typing.hidden = !on;
    this.typing.lastChild.textContent = label || this.t("typing");
    if (on) {
      this.scrollToEnd();
      this.typingTimer = setTimeout(function () {
        self.typing.hidden = true;
      }, TYPING_TIMEOUT_MS);
    }
  };

  /* "New chat": the stored conversation is dropped here and a new session asked for, so the
     next visitor at a shared screen starts with nothing of the previous one's. */
  Widget.prototype.startOver = function () {
    forget(CONVERSATION_KEYS);
    this.sessionId = null;
    this.token = null;
    this.history = [];
    this.handoff = null;
    this.queue = [];
    this.startingOver = true; // until the new session is confirmed: late replies are the old chat's
    this.setTyping(false);
    this.log.textContent = "";
    this.renderHistory();
    this.renderHandoff();
    this.renderSuggestions();
    if (this.socket && this.socket.connected) this.requestSession();
    this.input.value = "";
    this.input.focus();
  };

  // ---- connection ----

  Widget.prototype.requestSession = function () {
    this.ready = false;
    var request = {};
    if (this.sessionId && this.token) {
      request.session_id = this.sessionId;
      request.token = this.token;
    }
    // while staff have the chat, ask for the desk's messages missed while disconnected
    if (this.handoff) request.since = Number(load("desk_since", 0)) || 0;
    this.socket.emit("session_request", request);
  };

  /* The server's answer: the session it holds for us (ours, or a new one when ours could not
     be proved or has expired), with its token. */
  Widget.prototype.confirmSession = function (sessionId, token) {
    if (typeof sessionId !== "string" || !sessionId) return;
    this.startingOver = false;
    if (this.sessionId && sessionId !== this.sessionId) {
      // another conversation on the server: the old one's handoff state no longer applies
      forget(["handoff", "desk_since"]);
      this.handoff = null;
      this.renderHandoff();
      this.renderSuggestions();
    }
    this.sessionId = sessionId;
    save("session", sessionId);
    if (typeof token === "string" && token) {
      this.token = token;
      save("token", token);
    }
  };

  Widget.prototype.connect = function () {
    var self = this;
    var socket = window.io(this.serverUrl, {
      path: this.config.socketPath || "/socket.io",
      transports: ["websocket", "polling"],
      reconnectionDelayMax: 5000
    });
    this.socket = socket;
    socket.on("connect", function () {
      self.requestSession();
    });
    socket.on("session_confirm", function (sessionId, token) {
      self.confirmSession(sessionId, token);
      self.ready = true;
      self.showStatus("online");
      var queued = self.queue.splice(0);
      queued.forEach(function (data) {
        socket.emit("user_uttered", data);
      });
    });
    socket.on("bot_uttered", function (data) {
      self.receive(data);
    });
    socket.on("disconnect", function () {
      self.ready = false;
      self.showStatus("offline");
    });
    socket.on("connect_error", function (error) {
      // A connection the server refused (rate limit) is not retried by socket.io-client:
      // say so, and try again when the server said it may (bot/rate_limits.py).
      var retryAfter = error && error.data && Number(error.data.retry_after_s);
      if (!retryAfter) return self.showStatus("offline");
      self.showStatus("busy");
      setTimeout(function () {
        socket.connect();
      }, Math.min(Math.max(retryAfter, 1), 120) * 1000);
    });
  };

  // ---- start: socket.io-client (from where this file came), then the widget ----

  function withSocketIo(callback) {
    if (typeof window.io === "function") return callback();
    var tag = el("script", { src: BASE + "socket.io.min.js" });
    tag.addEventListener("load", callback);
    tag.addEventListener("error", function () {
      console.error("cyberweek-chat: could not load " + BASE + "socket.io.min.js");
    });
    document.head.appendChild(tag);
  }

  function start() {
    if (window.CyberweekChat && window.CyberweekChat.widget) return; // embedded twice
    var config = window.CyberweekChatConfig || {};
    withSocketIo(function () {
      window.CyberweekChat.widget = new Widget(config);
    });
  }

  window.CyberweekChat = window.CyberweekChat || {};
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
