/*
 * Cyber Security Week Assistant — help-desk staff console (服务台控制台).
 *
 * Loaded by console.html, served at /webhooks/desk/. Talks to the API described in
 * docs/desk-console-api.md: every call is a relative URL (api/...), with the session cookie
 * (credentials: "same-origin") and, on every POST but login, the header X-CSRF-Token.
 * Live updates come from the Server-Sent Events stream api/stream.
 *
 * Safety: every text from the server (names, messages, intents, errors) is put in the page
 * with textContent or as an attribute value. Nothing is ever parsed as HTML.
 */
(function () {
  "use strict";

  var STORE = "cyberweek-desk:";
  var MAX_REPLY = 2000;
  var TICK_MS = 15000; // waiting times and the WeChat window are re-drawn this often
  var TYPING_EVERY_MS = 3000; // at most one "typing" notice per this interval
  var TYPING_IDLE_MS = 5000; // "stopped typing" this long after the last keystroke
  var REQUEST_TIMEOUT_MS = 20000;
  var REFRESH_DEBOUNCE_MS = 150;
  var POLL_MS = 30000; // a safety net while the live stream is down
  var LOW_CONFIDENCE = 0.5;
  var VIEWS = ["waiting", "mine", "open", "closed"];
  var COUNTED_VIEWS = ["waiting", "mine", "open"];
  var OUTCOMES = ["resolved", "no_answer", "spam", "left"];

  var TEXT = {
    zh: {
      appTitle: "服务台 · 网络安全宣传周",
      skipToConversation: "跳到当前对话",
      langButton: "English",
      otherLang: "en",
      langButtonLabel: "Switch to English",
      logout: "退出登录",
      dismiss: "关闭提示",
      loginTitle: "工作人员登录",
      username: "用户名",
      password: "密码",
      loginButton: "登录",
      loginBusy: "正在登录…",
      errLoginMissing: "请输入用户名和密码。",
      errCredentials: "用户名或密码错误。",
      errLocked: "该账号因多次登录失败已被暂时锁定，请 {n} 分钟后再试。",
      errThrottled: "此设备登录尝试过于频繁，请 {n} 分钟后再试。",
      sessionExpired: "登录已失效，请重新登录。",
      who: "{name} · {role}",
      role_agent: "客服",
      role_editor: "编辑",
      role_admin: "管理员",
      live_connecting: "正在连接…",
      live_live: "实时",
      live_reconnecting: "正在重新连接…",
      live_off: "未连接",
      queueHeading: "对话队列",
      tabWaiting: "等待中",
      tabMine: "我的",
      tabOpen: "全部进行中",
      tabClosed: "已结束",
      countLabel: "{n} 个",
      empty_waiting: "没有等待中的访客。",
      empty_mine: "你目前没有认领的对话。",
      empty_open: "没有进行中的对话。",
      empty_closed: "还没有已结束的对话。",
      loading: "正在加载…",
      loadFailed: "无法加载此对话。",
      retry: "重试",
      channel_webchat: "网页",
      channel_wechat: "微信",
      channel_rest: "REST",
      language_zh: "中文",
      language_en: "英文",
      status_waiting: "等待中",
      status_open: "处理中",
      status_closed: "已结束",
      reason_asked: "访客要求人工",
      reason_fallback: "机器人未能回答",
      reason_button: "点击了人工按钮",
      outcome_returned: "已交还机器人",
      outcome_resolved: "已解决",
      outcome_no_answer: "无法解答",
      outcome_spam: "骚扰",
      outcome_left: "访客已离开",
      lessThanMinute: "不到 1 分钟",
      minutes: "{n} 分钟",
      hoursMinutes: "{h} 小时 {m} 分钟",
      waitingFor: "已等待 {d}",
      startedAgo: "{d} 前开始",
      endedAt: "结束于 {time}",
      assignee: "处理人：{name}",
      you: "你",
      assigneeYou: "{name}（你）",
      noMessage: "（没有消息）",
      pickConversation: "请从队列中选择一个对话。",
      back: "← 返回队列",
      convTitle: "对话 #{id}",
      meta_channel: "渠道",
      meta_language: "语言",
      meta_status: "状态",
      meta_assignee: "处理人",
      meta_reason: "原因",
      unassigned: "未认领",
      statusWithOutcome: "{status}（{outcome}）",
      wechatWindow: "可回复至 {time}",
      wechatQuota: "还可发送 {n} 条",
      wechatWindowPassed: "已超出微信 48 小时回复时限，不能再回复。",
      wechatQuotaUsed: "客服消息条数已用完，访客再次发消息后才能回复。",
      collision: "{name} 正在处理此对话。",
      takeOver: "接管",
      claim: "认领",
      resume: "交还机器人",
      outcomeLabel: "结果",
      closeButton: "结束",
      transcript: "对话记录",
      kind_visitor: "访客",
      kind_bot: "机器人",
      kind_staff: "工作人员",
      kind_system: "系统",
      staffNamed: "{name}（工作人员）",
      system_handoff: "已转人工",
      system_resumed: "已交还机器人",
      intentBadge: "意图 {intent}，置信度 {c}",
      lowConfidence: "置信度低",
      emptyTranscript: "还没有消息。",
      replyLabel: "回复访客",
      replyPlaceholder: "输入回复…",
      counter: "{n}/{max}",
      send: "发送",
      sending: "正在发送…",
      sendKeys: "Ctrl+Enter 发送",
      hintClaimFirst: "认领此对话后才能回复。",
      hintTakeOverFirst: "接管此对话后才能回复。",
      errNotYours: "请先认领此对话，再回复。",
      errClosedConv: "此对话已经结束。",
      errDelivery: "回复未送达访客（{channel}错误 {code}：{meaning}）。文字已保留在输入框中。",
      errDeliveryNoCode: "回复未送达访客（{channel}：{meaning}）。文字已保留在输入框中。",
      errcode_45015: "超出48小时回复时限",
      errcode_45047: "超出客服消息条数上限",
      errcodeUnknown: "未知错误",
      errForbidden: "你的账号没有此操作的权限。",
      errCsrf: "安全令牌已失效，请刷新页面。",
      errNetwork: "网络错误：无法连接服务器，请检查网络。",
      errTimeout: "服务器响应超时，请稍后再试。",
      errServer: "服务器错误（{status}），请稍后再试。",
      errBadRequest: "请求被拒绝：{why}",
      errNotFound: "找不到此对话。",
      claimedNotice: "你已认领此对话。",
      resumedNotice: "已交还机器人。",
      closedNotice: "对话已结束：{outcome}。",
      newWaiting: "有新的访客在等待，共 {n} 位。",
      newVisitorMessage: "访客新消息：{text}",
      shortcutsButton: "快捷键",
      shortcutsTitle: "键盘快捷键",
      closeHelp: "关闭",
      shortcutsLine: "Ctrl+Enter 发送 · Alt+N / J 下一个对话 · Alt+P / K 上一个 · ? 快捷键",
      shortcuts: [
        ["Ctrl+Enter / ⌘+Enter", "发送回复"],
        ["Alt+N", "下一个对话"],
        ["Alt+P", "上一个对话"],
        ["J / K", "下一个 / 上一个对话（焦点不在输入框时）"],
        ["?", "显示此帮助"],
        ["Esc", "关闭此帮助"]
      ]
    },
    en: {
      appTitle: "Help desk · Cyber Security Week",
      skipToConversation: "Skip to the conversation",
      langButton: "中文",
      otherLang: "zh-CN",
      langButtonLabel: "切换到中文",
      logout: "Log out",
      dismiss: "Dismiss",
      loginTitle: "Staff sign-in",
      username: "User name",
      password: "Password",
      loginButton: "Sign in",
      loginBusy: "Signing in…",
      errLoginMissing: "Enter your user name and password.",
      errCredentials: "Wrong user name or password.",
      errLocked: "This account is locked after too many failed sign-ins. Try again in {n} min.",
      errThrottled: "Too many sign-in attempts from this device. Try again in {n} min.",
      sessionExpired: "Your session has ended. Please sign in again.",
      who: "{name} · {role}",
      role_agent: "agent",
      role_editor: "editor",
      role_admin: "admin",
      live_connecting: "Connecting…",
      live_live: "Live",
      live_reconnecting: "Reconnecting…",
      live_off: "Not connected",
      queueHeading: "Conversation queue",
      tabWaiting: "Waiting",
      tabMine: "Mine",
      tabOpen: "All open",
      tabClosed: "Closed",
      countLabel: "{n}",
      empty_waiting: "Nobody is waiting.",
      empty_mine: "You hold no conversations.",
      empty_open: "No open conversations.",
      empty_closed: "No closed conversations yet.",
      loading: "Loading…",
      loadFailed: "This conversation could not be loaded.",
      retry: "Try again",
      channel_webchat: "Web",
      channel_wechat: "WeChat",
      channel_rest: "REST",
      language_zh: "Chinese",
      language_en: "English",
      status_waiting: "Waiting",
      status_open: "Open",
      status_closed: "Closed",
      reason_asked: "Visitor asked for staff",
      reason_fallback: "Bot could not answer",
      reason_button: "Pressed the staff button",
      outcome_returned: "Returned to the bot",
      outcome_resolved: "Resolved",
      outcome_no_answer: "Could not answer",
      outcome_spam: "Spam",
      outcome_left: "Visitor left",
      lessThanMinute: "< 1 min",
      minutes: "{n} min",
      hoursMinutes: "{h} h {m} min",
      waitingFor: "waiting {d}",
      startedAgo: "started {d} ago",
      endedAt: "ended {time}",
      assignee: "Handled by {name}",
      you: "you",
      assigneeYou: "{name} (you)",
      noMessage: "(no message)",
      pickConversation: "Pick a conversation from the queue.",
      back: "← Back to the queue",
      convTitle: "Conversation #{id}",
      meta_channel: "Channel",
      meta_language: "Language",
      meta_status: "Status",
      meta_assignee: "Handled by",
      meta_reason: "Reason",
      unassigned: "Unclaimed",
      statusWithOutcome: "{status} ({outcome})",
      wechatWindow: "Replies possible until {time}",
      wechatQuota: "{n} messages left",
      wechatWindowPassed: "WeChat's 48-hour reply window has passed: no more replies are possible.",
      wechatQuotaUsed: "The customer-service message quota is used up until the visitor writes again.",
      collision: "{name} is handling this conversation.",
      takeOver: "Take over",
      claim: "Claim",
      resume: "Return to bot",
      outcomeLabel: "Outcome",
      closeButton: "Close",
      transcript: "Transcript",
      kind_visitor: "Visitor",
      kind_bot: "Bot",
      kind_staff: "Staff",
      kind_system: "System",
      staffNamed: "{name} (staff)",
      system_handoff: "Handed over to staff",
      system_resumed: "Returned to the bot",
      intentBadge: "intent {intent}, confidence {c}",
      lowConfidence: "low confidence",
      emptyTranscript: "No messages yet.",
      replyLabel: "Reply to the visitor",
      replyPlaceholder: "Type your reply…",
      counter: "{n}/{max}",
      send: "Send",
      sending: "Sending…",
      sendKeys: "Ctrl+Enter to send",
      hintClaimFirst: "Claim this conversation to reply.",
      hintTakeOverFirst: "Take over this conversation to reply.",
      errNotYours: "Claim this conversation before replying.",
      errClosedConv: "This conversation has already ended.",
      errDelivery: "The reply did not reach the visitor ({channel} error {code}: {meaning}). Your text is kept in the box.",
      errDeliveryNoCode: "The reply did not reach the visitor ({channel}: {meaning}). Your text is kept in the box.",
      errcode_45015: "outside WeChat's 48-hour reply window",
      errcode_45047: "customer-service message quota used up",
      errcodeUnknown: "unknown error",
      errForbidden: "Your account may not do this.",
      errCsrf: "The security token has expired. Please reload the page.",
      errNetwork: "Network error: the server cannot be reached. Check the connection.",
      errTimeout: "The server took too long to answer. Try again shortly.",
      errServer: "Server error ({status}). Try again shortly.",
      errBadRequest: "Request refused: {why}",
      errNotFound: "This conversation was not found.",
      claimedNotice: "You now hold this conversation.",
      resumedNotice: "Returned to the bot.",
      closedNotice: "Conversation closed: {outcome}.",
      newWaiting: "A new visitor is waiting ({n} waiting).",
      newVisitorMessage: "New visitor message: {text}",
      shortcutsButton: "Shortcuts",
      shortcutsTitle: "Keyboard shortcuts",
      closeHelp: "Close",
      shortcutsLine: "Ctrl+Enter send · Alt+N / J next conversation · Alt+P / K previous · ? shortcuts",
      shortcuts: [
        ["Ctrl+Enter / ⌘+Enter", "Send the reply"],
        ["Alt+N", "Next conversation"],
        ["Alt+P", "Previous conversation"],
        ["J / K", "Next / previous conversation (when not typing in a field)"],
        ["?", "Show this help"],
        ["Esc", "Close this help"]
      ]
    }
  };

  // ---- storage (localStorage may be disabled: then the console works without memory) ----

  function load(key, fallback) {
    try {
      var value = window.localStorage.getItem(STORE + key);
      return value === null ? fallback : JSON.parse(value);
    } catch (e) {
      return fallback;
    }
  }

  function save(key, value) {
    try {
      window.localStorage.setItem(STORE + key, JSON.stringify(value));
    } catch (e) {
      /* private mode or full: keep going */
    }
  }

  function oneOf(value, allowed) {
    return allowed.indexOf(value) >= 0 ? value : null;
  }

  function browserLang() {
    var langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "zh"];
    return String(langs[0]).toLowerCase().indexOf("zh") === 0 ? "zh" : "en";
  }

  // ---- DOM helpers: elements and text nodes only ----

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "hidden") node.hidden = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(child);
    });
    return node;
  }

  function textLang(text) {
    return /[\u3400-\u9fff]/.test(text) ? "zh-CN" : "en";
  }

  function str(value) {
    return typeof value === "string" ? value : value === null || value === undefined ? "" : String(value);
  }

  // ---- state ----

  var ui = {}; // the page's elements, by id
  var state = {
    lang: "zh",
    me: null, // {username, display_name, role}
    csrf: null,
    permissions: [],
    view: "waiting",
    lists: { waiting: null, mine: null, open: null, closed: null },
    selectedId: null, // a string
    detail: null, // {handoff, transcript, wechat} of the selected conversation
    detailSeq: 0,
    detailError: null, // why the selected conversation could not be loaded

    rendered: { id: null, count: 0, lastKey: "" }, // what the transcript shows
    skewMs: 0, // server clock minus this clock, estimated from waiting_s
    knownWaiting: null, // ids seen waiting at the last refresh (null before the first)
    drafts: {},
    collision: null, // display name of whoever holds the open conversation, from a 409
    notice: null, // {key, args, kind}
    replyError: null,
    loginError: null,
    banner: null,
    busy: false, // a claim / resume / close is on its way
    sending: false,
    typing: { id: null, sentAt: 0, timer: null },
    stream: null,
    streamState: "off",
    streamDown: false,
    streamRetryMs: 2000,
    streamRetryTimer: null,
    lastSessionCheck: 0,
    refreshTimer: null,
    refreshing: false,
    refreshAgain: false,
    bootRetryMs: 3000
  };

  function t(key, args) {
    var value = TEXT[state.lang][key];
    if (value === undefined) value = TEXT.en[key];
    if (value === undefined) return key;
    if (typeof value !== "string" || !args) return value;
    return value.replace(/\{(\w+)\}/g, function (match, name) {
      if (!(name in args)) return match;
      var arg = args[name];
      return arg && typeof arg === "object" && arg.key ? t(arg.key, arg.args) : str(arg);
    });
  }

  /* Messages are kept as {key, args}, so a language switch re-renders them too. */
  function say(desc) {
    return desc ? t(desc.key, desc.args) : "";
  }

  function tOr(prefix, value, fallback) {
    var key = prefix + value;
    return TEXT[state.lang][key] !== undefined ? TEXT[state.lang][key] : fallback !== undefined ? fallback : str(value);
  }

  // ---- time ----

  function parseTime(iso) {
    var ms = typeof iso === "string" ? Date.parse(iso) : NaN;
    return isNaN(ms) ? null : ms;
  }

  function serverNow() {
    return Date.now() + state.skewMs;
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  /* Local HH:MM, with MM-DD in front when not today. */
  function clock(ms) {
    if (ms === null) return "";
    var d = new Date(ms);
    var now = new Date();
    var hm = pad(d.getHours()) + ":" + pad(d.getMinutes());
    if (d.toDateString() === now.toDateString()) return hm;
    return pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + hm;
  }

  function duration(ms) {
    var minutes = Math.floor(Math.max(0, ms) / 60000);
    if (minutes < 1) return t("lessThanMinute");
    if (minutes < 60) return t("minutes", { n: minutes });
    return t("hoursMinutes", { h: Math.floor(minutes / 60), m: minutes % 60 });
  }

  // ---- the server's shapes, checked ----

  function cleanStaff(s) {
    if (!s || typeof s !== "object") return null;
    var username = str(s.username);
    return { username: username, display_name: str(s.display_name) || username, role: str(s.role) };
  }

  function cleanHandoff(h) {
    if (!h || typeof h !== "object" || h.id === undefined || h.id === null) return null;
    return {
      id: String(h.id),
      conversation_id: str(h.conversation_id),
      channel: str(h.channel),
      language: str(h.language),
      status: str(h.status),
      reason: str(h.reason),
      last_visitor_message: str(h.last_visitor_message),
      created_at: parseTime(h.created_at),
      updated_at: parseTime(h.updated_at),
      waiting_s: typeof h.waiting_s === "number" && isFinite(h.waiting_s) ? h.waiting_s : null,
      assignee: cleanStaff(h.assignee),
      outcome: h.outcome ? str(h.outcome) : null
    };
  }

  function cleanList(data) {
    var items = Array.isArray(data) ? data : data && Array.isArray(data.handoffs) ? data.handoffs : data && Array.isArray(data.items) ? data.items : [];
    return items.map(cleanHandoff).filter(Boolean);
  }

  function cleanMessage(m) {
    if (!m || typeof m !== "object") return null;
    var confidence = typeof m.confidence === "number" && isFinite(m.confidence) ? m.confidence : null;
    return {
      kind: oneOf(m.kind, ["visitor", "bot", "staff", "system"]) || "system",
      text: str(m.text),
      at: parseTime(m.at),
      intent: m.intent ? str(m.intent) : null,
      confidence: confidence,
      staff: m.staff ? str(typeof m.staff === "object" ? m.staff.display_name || m.staff.username : m.staff) : null
    };
  }

  function cleanDetail(data) {
    var handoff = cleanHandoff(data && data.handoff);
    if (!handoff) return null;
    var wechat = data.wechat && typeof data.wechat === "object" ? data.wechat : null;
    return {
      handoff: handoff,
      transcript: (Array.isArray(data.transcript) ? data.transcript : []).map(cleanMessage).filter(Boolean),
      wechat: wechat && {
        window_ends_at: parseTime(wechat.window_ends_at),
        quota_left: typeof wechat.quota_left === "number" ? wechat.quota_left : null
      }
    };
  }

  function isMine(h) {
    return !!(h && h.assignee && state.me && h.assignee.username === state.me.username);
  }

  function canReply() {
    return state.permissions.indexOf("reply") >= 0;
  }

  // ---- HTTP ----

  /* Resolves (never rejects) with {status, ok, data}; status 0 when the network failed. */
  function request(method, path, body) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
    var headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method === "POST" && path !== "api/login" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
    return window
      .fetch(path, {
        method: method,
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        cache: "no-store",
        signal: controller ? controller.signal : undefined
      })
      .then(
        function (response) {
          return response.text().then(function (text) {
            var data = null;
            try {
              data = text ? JSON.parse(text) : null;
            } catch (e) {
              data = null;
            }
            return {
              status: response.status,
              ok: response.ok,
              data: data !== null && typeof data === "object" ? data : {},
              retryAfter: Number(response.headers.get("Retry-After")) || 0
            };
          });
        },
        function (error) {
          return { status: 0, ok: false, data: {}, network: true, timeout: !!(error && error.name === "AbortError") };
        }
      )
      .then(function (result) {
        clearTimeout(timer);
        // the server answered: a "cannot reach the server" banner is out of date
        if (!result.network && state.banner && state.banner.network) clearBanner();
        return result;
      });
  }

  /* request() plus what every call shares: a new CSRF token and one retry on 403 csrf,
     the login form on 401, the network banner. opts.quiet: no banner for network errors. */
  function api(method, path, body, opts) {
    opts = opts || {};
    return request(method, path, body).then(function (r) {
      if (r.status === 403 && r.data.error === "csrf" && !opts.retried) {
        return request("GET", "api/me").then(function (me) {
          if (me.ok && me.data.csrf_token) {
            state.csrf = str(me.data.csrf_token);
            return api(method, path, body, { quiet: opts.quiet, retried: true });
          }
          if (me.status === 401) sessionEnded();
          return r;
        });
      }
      if (r.status === 401 && state.me) sessionEnded();
      if (r.network && !opts.quiet) showBanner({ key: r.timeout ? "errTimeout" : "errNetwork", network: true });
      return r;
    });
  }

  function post(id, action, body, opts) {
    return api("POST", "api/handoffs/" + encodeURIComponent(id) + "/" + action, body === undefined ? {} : body, opts);
  }

  /* The message for a failure no caller handled itself. */
  function failure(r) {
    if (r.network) return { key: r.timeout ? "errTimeout" : "errNetwork" };
    if (r.status === 403) return { key: r.data.error === "csrf" ? "errCsrf" : "errForbidden" };
    if (r.status === 400 || r.status === 413) return { key: "errBadRequest", args: { why: str(r.data.error) || "400" } };
    if (r.status === 404) return { key: "errNotFound" };
    if (r.status === 409 && r.data.error === "closed") return { key: "errClosedConv" };
    return { key: "errServer", args: { status: r.status } };
  }

  function reportFailure(r) {
    if (r.status === 401 || r.network) return; // the login form, or the banner already
    showBanner(failure(r));
  }

  // ---- banner, notices, announcements ----

  function showBanner(desc) {
    state.banner = desc;
    renderBanner();
  }

  function clearBanner() {
    state.banner = null;
    renderBanner();
  }

  function renderBanner() {
    ui["banner"].hidden = !state.banner;
    ui["banner-text"].textContent = say(state.banner);
  }

  function announce(text) {
    var region = ui["announcer"];
    region.textContent = "";
    // a fresh text node a moment later, so that the same words are announced again
    setTimeout(function () {
      region.textContent = text;
    }, 50);
  }

  // ---- sound: a short beep, possible only after the user has interacted with the page ----

  var audio = null;

  function unlockAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      if (!audio) audio = new Context();
      if (audio.state === "suspended") audio.resume();
    } catch (e) {
      audio = null;
    }
  }

  function beep() {
    if (!audio || audio.state !== "running") return;
    try {
      var start = audio.currentTime + 0.01;
      [880, 1175].forEach(function (frequency, i) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        var at = start + i * 0.16;
        osc.type = "sine";
        osc.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, at);
        gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.14);
        osc.connect(gain);
        gain.connect(audio.destination);
        osc.start(at);
        osc.stop(at + 0.15);
      });
    } catch (e) {
      /* no sound then */
    }
  }

  // ---- language ----

  function applyLanguage() {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    Array.prototype.forEach.call(document.querySelectorAll("[data-t]"), function (node) {
      node.textContent = t(node.getAttribute("data-t"));
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-t-label]"), function (node) {
      node.setAttribute("aria-label", t(node.getAttribute("data-t-label")));
    });
    ui["lang-toggle"].textContent = t("langButton");
    ui["lang-toggle"].setAttribute("lang", t("otherLang")); // read out in its own language
    ui["lang-toggle"].setAttribute("title", t("langButtonLabel"));
    ui["reply-text"].setAttribute("placeholder", t("replyPlaceholder"));
    ui["shortcuts-line"].textContent = t("shortcutsLine");
    var list = ui["shortcut-list"];
    list.textContent = "";
    t("shortcuts").forEach(function (pair) {
      list.appendChild(el("dt", {}, [el("kbd", { text: pair[0] })]));
      list.appendChild(el("dd", { text: pair[1] }));
    });
    renderAll();
  }

  function setLanguage(lang) {
    state.lang = lang;
    save("lang", lang);
    applyLanguage();
  }

  function renderAll() {
    renderWho();
    renderLive();
    renderBanner();
    renderLoginError();
    renderTabs();
    renderQueue();
    renderConversation(true);
    updateTitle();
  }

  function updateTitle() {
    var waiting = state.me && state.lists.waiting ? state.lists.waiting.length : 0;
    document.title = (waiting > 0 ? "(" + waiting + ") " : "") + t("appTitle");
  }

  // ---- login and session ----

  function setSession(data) {
    state.me = cleanStaff(data.staff);
    state.csrf = str(data.csrf_token);
    state.permissions = Array.isArray(data.permissions) ? data.permissions.map(str) : [];
  }

  function showLogin(focus) {
    ui["console-view"].hidden = true;
    ui["shortcuts-footer"].hidden = true;
    ui["logout-button"].hidden = true;
    ui["who"].hidden = true;
    ui["live-status"].hidden = true;
    ui["login-view"].hidden = false;
    ui["login-submit"].disabled = false;
    ui["login-submit"].textContent = t("loginButton");
    document.body.classList.remove("is-loading");
    document.body.setAttribute("data-screen", "login");
    renderLoginError();
    updateTitle();
    if (focus !== false) (ui["login-username"].value ? ui["login-password"] : ui["login-username"]).focus();
  }

  function showConsole() {
    ui["login-view"].hidden = true;
    ui["console-view"].hidden = false;
    ui["shortcuts-footer"].hidden = false;
    ui["logout-button"].hidden = false;
    ui["who"].hidden = false;
    ui["live-status"].hidden = false;
    ui["login-password"].value = "";
    state.loginError = null;
    document.body.classList.remove("is-loading");
    document.body.setAttribute("data-screen", "console");
    renderAll();
    refreshQueue();
    startStream();
  }

  function renderWho() {
    ui["who"].textContent = state.me
      ? t("who", { name: state.me.display_name, role: tOr("role_", state.me.role) })
      : "";
  }

  function renderLoginError() {
    ui["login-error"].hidden = !state.loginError;
    ui["login-error"].textContent = say(state.loginError);
  }

  function submitLogin(event) {
    event.preventDefault();
    var username = ui["login-username"].value.trim();
    var password = ui["login-password"].value;
    if (!username || !password) {
      state.loginError = { key: "errLoginMissing" };
      renderLoginError();
      (username ? ui["login-password"] : ui["login-username"]).focus();
      return;
    }
    var button = ui["login-submit"];
    if (button.disabled) return;
    button.disabled = true;
    button.textContent = t("loginBusy");
    request("POST", "api/login", { username: username, password: password }).then(function (r) {
      button.disabled = false;
      button.textContent = t("loginButton");
      if (r.ok && r.data.staff) {
        setSession(r.data);
        clearBanner();
        showConsole();
        var tab = ui["tab-" + state.view];
        if (tab) tab.focus();
        return;
      }
      if (r.status === 401) state.loginError = { key: "errCredentials" };
      else if (r.status === 429) {
        var seconds = Number(r.data.retry_after_s) || r.retryAfter || 60;
        state.loginError = {
          key: r.data.error === "locked" ? "errLocked" : "errThrottled",
          args: { n: Math.max(1, Math.ceil(seconds / 60)) }
        };
      } else state.loginError = failure(r);
      renderLoginError();
      ui["login-password"].select();
      ui["login-password"].focus();
    });
  }

  function logout() {
    var had = state.me;
    stopTyping(true);
    api("POST", "api/logout", {}, { quiet: true });
    resetSession();
    if (had) state.loginError = null;
    showLogin();
  }

  /* The server says the session is over (401): back to the login form. */
  function sessionEnded() {
    if (!state.me) return;
    resetSession();
    state.loginError = { key: "sessionExpired" };
    showLogin();
  }

  function resetSession() {
    stopTyping(false);
    stopStream();
    state.me = null;
    state.csrf = null;
    state.permissions = [];
    state.lists = { waiting: null, mine: null, open: null, closed: null };
    state.selectedId = null;
    state.detail = null;
    state.detailError = null;
    state.detailSeq++;
    state.knownWaiting = null;
    state.drafts = {};
    state.collision = null;
    state.notice = null;
    state.replyError = null;
    state.rendered = { id: null, count: 0, lastKey: "" };
    ui["reply-text"].value = "";
    renderConversation(true);
    renderQueue();
    updateTitle();
  }

  /* GET api/me: 200 → the console, 401 → the login form. While the server cannot be reached
     the form shows with a banner, and api/me is asked again, less often each time. */
  function boot() {
    request("GET", "api/me").then(function (r) {
      if (state.me) return; // signed in with the form meanwhile
      if (r.ok && r.data.staff) {
        clearBanner();
        setSession(r.data);
        showConsole();
        return;
      }
      if (r.status === 401) {
        if (state.banner && state.banner.boot) clearBanner();
        showLogin(ui["login-view"].hidden);
        return;
      }
      var desc = r.network ? { key: r.timeout ? "errTimeout" : "errNetwork" } : failure(r);
      desc.network = !!r.network;
      desc.boot = true;
      showBanner(desc);
      if (ui["login-view"].hidden) showLogin(false);
      setTimeout(boot, state.bootRetryMs);
      state.bootRetryMs = Math.min(state.bootRetryMs * 2, 30000);
    });
  }

  // ---- live stream ----

  function setLive(value) {
    state.streamState = value;
    renderLive();
  }

  function renderLive() {
    ui["live-status"].setAttribute("data-state", state.streamState);
    ui["live-status-text"].textContent = t("live_" + state.streamState);
  }

  function startStream() {
    stopStream();
    if (!state.me) return;
    if (!window.EventSource) {
      setLive("off"); // the poll keeps the queue fresh
      return;
    }
    var stream = new window.EventSource("api/stream");
    state.stream = stream;
    setLive("connecting");
    stream.addEventListener("open", function () {
      if (stream !== state.stream) return;
      state.streamRetryMs = 2000;
      setLive("live");
      if (state.streamDown) {
        // events may have been missed while away
        state.streamDown = false;
        scheduleRefresh();
        if (state.selectedId) loadConversation();
      }
    });
    stream.addEventListener("queue", function (event) {
      if (stream !== state.stream) return;
      var data = {};
      try {
        data = JSON.parse(event.data) || {};
      } catch (e) {
        data = {};
      }
      scheduleRefresh();
      var changed = Array.isArray(data.changed) ? data.changed.map(String) : null;
      if (state.selectedId && (!changed || changed.indexOf(state.selectedId) >= 0)) loadConversation();
    });
    // the server ends the stream with this when the session has ended or the account is disabled
    stream.addEventListener("logout", function () {
      if (stream !== state.stream) return;
      stopStream();
      checkSession(function (alive) {
        if (alive && state.me && !state.stream) startStream(); // it was not about us after all
      }, true);
    });
    stream.addEventListener("error", function () {
      if (stream !== state.stream) return;
      state.streamDown = true;
      setLive("reconnecting");
      checkSession(function (alive) {
        if (!alive || stream !== state.stream) return;
        // EventSource retries by itself after a network error, but gives up after an
        // HTTP error status: then open a new one, a little later each time
        if (stream.readyState === 2) {
          clearTimeout(state.streamRetryTimer);
          state.streamRetryTimer = setTimeout(function () {
            if (stream === state.stream) startStream();
          }, state.streamRetryMs);
          state.streamRetryMs = Math.min(state.streamRetryMs * 2, 30000);
        }
      });
    });
  }

  function stopStream() {
    clearTimeout(state.streamRetryTimer);
    if (state.stream) state.stream.close();
    state.stream = null;
    setLive("off");
  }

  /* After a stream error: is the session still alive? (401 → login form.) */
  function checkSession(callback, always) {
    var now = Date.now();
    if (!always && now - state.lastSessionCheck < 4000) return callback(true);
    state.lastSessionCheck = now;
    request("GET", "api/me").then(function (r) {
      if (r.status === 401) {
        sessionEnded();
        callback(false);
        return;
      }
      if (r.ok && r.data.csrf_token) state.csrf = str(r.data.csrf_token);
      callback(true);
    });
  }

  // ---- the queue ----

  function scheduleRefresh() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(refreshQueue, REFRESH_DEBOUNCE_MS);
  }

  function refreshQueue() {
    if (!state.me) return;
    if (state.refreshing) {
      state.refreshAgain = true;
      return;
    }
    state.refreshing = true;
    var views = COUNTED_VIEWS.slice();
    if (views.indexOf(state.view) < 0) views.push(state.view);
    Promise.all(
      views.map(function (view) {
        return api("GET", "api/handoffs?view=" + view);
      })
    ).then(function (results) {
      state.refreshing = false;
      if (!state.me) return;
      var failed = null;
      results.forEach(function (r, i) {
        if (r.ok) state.lists[views[i]] = cleanList(r.data);
        else if (!failed) failed = r;
      });
      if (failed) reportFailure(failed);
      queueUpdated();
      if (state.refreshAgain) {
        state.refreshAgain = false;
        refreshQueue();
      }
    });
  }

  function queueUpdated() {
    var waiting = state.lists.waiting;
    if (waiting) {
      waiting.forEach(function (h) {
        if (h.status === "waiting" && h.waiting_s !== null && h.created_at !== null) {
          state.skewMs = h.created_at + h.waiting_s * 1000 - Date.now();
        }
      });
      var ids = waiting.map(function (h) {
        return h.id;
      });
      if (state.knownWaiting) {
        var known = state.knownWaiting;
        var arrived = ids.filter(function (id) {
          return known.indexOf(id) < 0;
        });
        if (arrived.length) {
          beep();
          announce(t("newWaiting", { n: ids.length }));
        }
      }
      state.knownWaiting = ids;
    }
    renderTabs();
    renderQueue();
    updateTitle();
  }

  function setView(view, focusTab) {
    if (!oneOf(view, VIEWS)) return;
    var changed = view !== state.view;
    state.view = view;
    save("view", view);
    renderTabs();
    if (focusTab) ui["tab-" + view].focus();
    if (changed) {
      renderQueue();
      refreshQueue();
    }
  }

  function renderTabs() {
    VIEWS.forEach(function (view) {
      var tab = ui["tab-" + view];
      var selected = view === state.view;
      tab.setAttribute("aria-selected", selected ? "true" : "false");
      tab.tabIndex = selected ? 0 : -1;
      var list = state.lists[view];
      var count = ui["count-" + view];
      var show = COUNTED_VIEWS.indexOf(view) >= 0 && list !== null && !!state.me;
      count.textContent = show ? String(list.length) : "";
      count.hidden = !show;
      count.classList.toggle("is-hot", view === "waiting" && show && list.length > 0);
    });
    ui["queue-scroll"].setAttribute("aria-labelledby", "tab-" + state.view);
  }

  function currentList() {
    return state.lists[state.view] || [];
  }

  function renderQueue() {
    var listNode = ui["queue-list"];
    var active = document.activeElement;
    var focusedId = active && active.classList && active.classList.contains("queue-item") ? active.getAttribute("data-id") : null;
    listNode.textContent = "";
    var list = state.lists[state.view];
    var empty = ui["queue-empty"];
    if (!state.me) {
      empty.hidden = true;
      return;
    }
    if (list === null) {
      empty.hidden = false;
      empty.textContent = t("loading");
      return;
    }
    list.forEach(function (h) {
      listNode.appendChild(queueItem(h));
    });
    empty.hidden = list.length > 0;
    empty.textContent = t("empty_" + state.view);
    if (focusedId) {
      var again = findQueueButton(focusedId);
      if (again) again.focus();
      else if (list.length) listNode.querySelector(".queue-item").focus();
      else ui["tab-" + state.view].focus();
    }
  }

  function findQueueButton(id) {
    var buttons = ui["queue-list"].querySelectorAll(".queue-item");
    for (var i = 0; i < buttons.length; i++) {
      if (buttons[i].getAttribute("data-id") === id) return buttons[i];
    }
    return null;
  }

  function timeLabel(h) {
    if (h.status === "closed") return t("endedAt", { time: clock(h.updated_at) });
    if (h.created_at === null) return "";
    var elapsed = duration(serverNow() - h.created_at);
    return h.status === "waiting" ? t("waitingFor", { d: elapsed }) : t("startedAgo", { d: elapsed });
  }

  function queueItem(h) {
    var message = h.last_visitor_message;
    var assignee = h.assignee
      ? el("span", {
          class: "qi-assignee" + (isMine(h) ? " is-me" : ""),
          text: t("assignee", { name: isMine(h) ? t("you") : h.assignee.display_name })
        })
      : null;
    var outcome = h.status === "closed" && h.outcome
      ? el("span", { class: "qi-outcome", text: tOr("outcome_", h.outcome) })
      : null;
    var button = el(
      "button",
      {
        type: "button",
        class: "queue-item status-" + h.status + (isMine(h) ? " is-mine" : ""),
        "data-id": h.id,
        "data-status": h.status,
        "aria-current": h.id === state.selectedId ? "true" : null
      },
      [
        el("span", { class: "qi-top" }, [
          el("span", { class: "qi-channel channel-" + (oneOf(h.channel, ["webchat", "wechat", "rest"]) || "other"), text: tOr("channel_", h.channel) }),
          el("span", { class: "qi-lang", text: tOr("language_", h.language) }),
          el("span", { class: "qi-time", "data-handoff": h.id, text: timeLabel(h) })
        ]),
        el("span", {
          class: "qi-message" + (message ? "" : " is-empty"),
          lang: message ? textLang(message) : null,
          title: message || null,
          text: message || t("noMessage")
        }),
        el("span", { class: "qi-bottom" }, [
          el("span", { class: "qi-reason", text: tOr("reason_", h.reason) }),
          outcome,
          assignee
        ])
      ]
    );
    return el("li", { class: "queue-entry" }, [button]);
  }

  function findHandoff(id) {
    var views = [state.view].concat(VIEWS);
    for (var v = 0; v < views.length; v++) {
      var list = state.lists[views[v]] || [];
      for (var i = 0; i < list.length; i++) if (list[i].id === id) return list[i];
    }
    return null;
  }

  /* Every 15 s: the waiting times, and whether the WeChat window is still open. */
  function tick() {
    if (!state.me) return;
    Array.prototype.forEach.call(ui["queue-list"].querySelectorAll(".qi-time"), function (node) {
      var h = findHandoff(node.getAttribute("data-handoff"));
      if (h) node.textContent = timeLabel(h);
    });
    if (state.detail) {
      renderWechat();
      renderActions();
    }
  }

  /* Next (+1) or previous (-1) conversation of the current queue view. */
  function move(delta) {
    var list = currentList();
    if (!list.length) return;
    var index = -1;
    for (var i = 0; i < list.length; i++) if (list[i].id === state.selectedId) index = i;
    var next = index < 0 ? (delta > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, index + delta));
    if (next === index) return;
    var active = document.activeElement;
    var inQueue = active && ui["queue-panel"].contains(active);
    openConversation(list[next].id, { focus: inQueue ? "queue" : "keep" });
  }

  // ---- the conversation ----

  function openConversation(id, opts) {
    opts = opts || {};
    if (id !== state.selectedId) {
      saveDraft();
      stopTyping(true);
      state.selectedId = id;
      state.detail = null;
      state.detailError = null;
      state.collision = null;
      state.notice = null;
      state.replyError = null;
      ui["reply-text"].value = state.drafts[id] || "";
      ui["outcome-select"].value = OUTCOMES[0];
      renderConversation(true);
      Array.prototype.forEach.call(ui["queue-list"].querySelectorAll(".queue-item"), function (node) {
        if (node.getAttribute("data-id") === id) node.setAttribute("aria-current", "true");
        else node.removeAttribute("aria-current");
      });
    }
    if (opts.focus === "queue") {
      var button = findQueueButton(id);
      if (button) button.focus();
    } else if (opts.focus === "conversation" || (opts.focus !== "keep" && isNarrow())) {
      ui["conv-title"].focus();
    }
    loadConversation();
  }

  function closeConversationView() {
    var id = state.selectedId;
    saveDraft();
    stopTyping(true);
    state.selectedId = null;
    state.detail = null;
    state.detailError = null;
    state.detailSeq++;
    state.collision = null;
    state.notice = null;
    state.replyError = null;
    renderConversation(true);
    renderQueue();
    var button = id && findQueueButton(id);
    (button || ui["tab-" + state.view]).focus();
  }

  function isNarrow() {
    return window.matchMedia ? window.matchMedia("(max-width: 699px)").matches : false;
  }

  function saveDraft() {
    if (state.selectedId) state.drafts[state.selectedId] = ui["reply-text"].value;
  }

  function loadConversation() {
    var id = state.selectedId;
    if (!id) return;
    var seq = ++state.detailSeq;
    api("GET", "api/handoffs/" + encodeURIComponent(id)).then(function (r) {
      if (seq !== state.detailSeq || id !== state.selectedId) return; // a newer one is coming
      if (r.ok) {
        var detail = cleanDetail(r.data);
        if (detail) {
          state.detail = detail;
          state.detailError = null;
          // the holder of a conversation shows from the data itself; a 409 said it earlier
          if (isMine(detail.handoff) || !detail.handoff.assignee || detail.handoff.status !== "open") state.collision = null;
          renderConversation(false);
          return;
        }
      }
      if (r.status === 404) {
        state.notice = { key: "errNotFound", kind: "error" };
        renderConversation(false);
      } else if (r.status !== 401) {
        reportFailure(r);
        if (!state.detail) {
          state.detailError = failure(r);
          renderTranscript(true);
        }
      }
    });
  }

  function renderConversation(full) {
    var id = state.selectedId;
    ui["console-view"].classList.toggle("has-selection", !!id);
    ui["conv-placeholder"].hidden = !!id;
    ui["conv-body"].hidden = !id;
    if (!id) {
      ui["transcript"].textContent = "";
      state.rendered = { id: null, count: 0, lastKey: "" };
      return;
    }
    var detail = state.detail;
    var h = detail ? detail.handoff : findHandoff(id);
    ui["conv-title"].textContent = t("convTitle", { id: id });
    ui["console-view"].setAttribute("data-conversation", id);
    renderMeta(h);
    renderWechat();
    renderCollision();
    renderNotice();
    renderTranscript(full);
    renderActions();
  }

  function renderMeta(h) {
    var meta = ui["conv-meta"];
    meta.textContent = "";
    if (!h) return;
    var status = tOr("status_", h.status);
    if (h.status === "closed" && h.outcome) status = t("statusWithOutcome", { status: status, outcome: tOr("outcome_", h.outcome) });
    var rows = [
      ["channel", tOr("channel_", h.channel)],
      ["language", tOr("language_", h.language)],
      ["status", status],
      ["assignee", h.assignee ? (isMine(h) ? t("assigneeYou", { name: h.assignee.display_name }) : h.assignee.display_name) : t("unassigned")],
      ["reason", tOr("reason_", h.reason)]
    ];
    rows.forEach(function (row) {
      meta.appendChild(
        el("li", { class: "meta-" + row[0], "data-field": row[0] }, [
          el("span", { class: "meta-label", text: t("meta_" + row[0]) }),
          el("span", { class: "meta-value", text: row[1] })
        ])
      );
    });
    meta.setAttribute("data-status", h.status);
  }

  function wechatBlock() {
    var detail = state.detail;
    var w = detail && detail.wechat;
    if (!w || detail.handoff.status === "closed") return null;
    if (w.window_ends_at !== null && w.window_ends_at <= serverNow()) return "wechatWindowPassed";
    if (w.quota_left !== null && w.quota_left <= 0) return "wechatQuotaUsed";
    return null;
  }

  function renderWechat() {
    var node = ui["wechat-info"];
    var w = state.detail && state.detail.wechat;
    node.textContent = "";
    if (!w) {
      node.hidden = true;
      return;
    }
    node.hidden = false;
    var block = wechatBlock();
    node.classList.toggle("is-blocked", !!block);
    if (w.window_ends_at !== null) {
      node.appendChild(el("span", {
        class: "wechat-window" + (block === "wechatWindowPassed" ? " is-over" : ""),
        text: t("wechatWindow", { time: clock(w.window_ends_at) })
      }));
    }
    if (w.quota_left !== null) {
      node.appendChild(el("span", {
        class: "wechat-quota" + (w.quota_left <= 0 ? " is-over" : ""),
        text: t("wechatQuota", { n: Math.max(0, w.quota_left) })
      }));
    }
  }

  function collisionName() {
    if (state.collision) return state.collision;
    var h = state.detail && state.detail.handoff;
    if (h && h.status === "open" && h.assignee && !isMine(h)) return h.assignee.display_name;
    return null;
  }

  function renderCollision() {
    var name = collisionName();
    ui["collision"].hidden = !name;
    ui["collision-text"].textContent = name ? t("collision", { name: name }) : "";
    ui["takeover-button"].hidden = !canReply();
  }

  function renderNotice() {
    var notice = state.notice;
    ui["conv-notice"].hidden = !notice;
    ui["conv-notice"].className = "notice" + (notice && notice.kind ? " notice-" + notice.kind : "");
    ui["conv-notice-text"].textContent = say(notice);
  }

  function messageKey(m) {
    return m ? m.kind + "|" + m.at + "|" + m.text : "";
  }

  /* Appends what is new when the same conversation grew; otherwise draws it all again. */
  function renderTranscript(full) {
    var list = ui["transcript"];
    var detail = state.detail;
    var id = state.selectedId;
    if (!detail) {
      list.textContent = "";
      if (state.detailError) {
        var retry = el("button", { type: "button", class: "btn btn-small", id: "retry-button", text: t("retry") });
        retry.addEventListener("click", function () {
          state.detailError = null;
          renderTranscript(true);
          loadConversation();
        });
        list.appendChild(el("li", { class: "msg-placeholder is-error" }, [
          el("span", { text: t("loadFailed") + " " + say(state.detailError) + " " }),
          retry
        ]));
      } else list.appendChild(el("li", { class: "msg-placeholder", text: t("loading") }));
      state.rendered = { id: null, count: 0, lastKey: "" };
      return;
    }
    var items = detail.transcript;
    var r = state.rendered;
    var nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    var grows = !full && r.id === id && items.length >= r.count && r.count > 0 && messageKey(items[r.count - 1]) === r.lastKey;
    var from = grows ? r.count : 0;
    if (!grows) {
      list.textContent = "";
      if (!items.length) list.appendChild(el("li", { class: "msg-placeholder", text: t("emptyTranscript") }));
    } else if (items.length > r.count) {
      var placeholder = list.querySelector(".msg-placeholder");
      if (placeholder) placeholder.remove();
    }
    for (var i = from; i < items.length; i++) {
      list.appendChild(messageItem(items[i]));
      if (grows && items[i].kind === "visitor") announce(t("newVisitorMessage", { text: items[i].text }));
    }
    var wasSame = r.id === id;
    state.rendered = { id: id, count: items.length, lastKey: messageKey(items[items.length - 1]) };
    if (!wasSame || nearBottom || !grows) list.scrollTop = list.scrollHeight;
  }

  function messageItem(m) {
    var head = [];
    if (m.kind === "system") {
      var text = tOr("system_", m.text, m.text);
      return el("li", { class: "msg msg-system", "data-kind": "system" }, [
        el("span", { class: "msg-text", text: text }),
        m.at !== null ? el("time", { class: "msg-time", datetime: new Date(m.at).toISOString(), text: clock(m.at) }) : null
      ]);
    }
    var who = m.kind === "staff" && m.staff ? t("staffNamed", { name: m.staff }) : t("kind_" + m.kind);
    head.push(el("span", { class: "msg-who", text: who }));
    if (m.at !== null) head.push(el("time", { class: "msg-time", datetime: new Date(m.at).toISOString(), text: clock(m.at) }));
    if (m.kind === "visitor" && m.intent) {
      var low = m.confidence !== null && m.confidence < LOW_CONFIDENCE;
      var c = m.confidence !== null ? m.confidence.toFixed(2) : "?";
      head.push(
        el("span", {
          class: "intent-badge" + (low ? " is-low" : ""),
          title: t("intentBadge", { intent: m.intent, c: c }) + (low ? " · " + t("lowConfidence") : ""),
          "data-intent": m.intent,
          "data-confidence": m.confidence !== null ? String(m.confidence) : null
        }, [
          el("span", { class: "intent-name", text: m.intent }),
          document.createTextNode(" "),
          el("span", { class: "intent-confidence", text: c }),
          low ? el("span", { class: "sr-only", text: " (" + t("lowConfidence") + ")" }) : null
        ])
      );
    }
    return el("li", { class: "msg msg-" + m.kind, "data-kind": m.kind }, [
      el("div", { class: "msg-head" }, head),
      el("p", { class: "msg-text", lang: textLang(m.text), text: m.text })
    ]);
  }

  /* Which buttons show, and whether the reply box can be used. */
  function renderActions() {
    var detail = state.detail;
    var h = detail ? detail.handoff : null;
    var active = !!h && h.status !== "closed";
    var mine = isMine(h);
    var allowed = canReply();
    var heldByOther = !!collisionName();
    ui["claim-button"].hidden = !(h && allowed && active && !mine && !heldByOther);
    ui["resume-button"].hidden = !(h && allowed && active && mine);
    ui["close-group"].hidden = !(h && allowed && active && mine);
    [ui["claim-button"], ui["resume-button"], ui["close-button"], ui["takeover-button"]].forEach(function (button) {
      button.disabled = state.busy;
    });

    var form = ui["reply-form"];
    form.hidden = !(h && allowed && active);
    var block = wechatBlock();
    var textarea = ui["reply-text"];
    textarea.disabled = !!block;
    ui["send-button"].disabled = !!block || state.sending;
    ui["send-button"].textContent = state.sending ? t("sending") : t("send");
    form.setAttribute("aria-busy", state.sending ? "true" : "false");
    var hint = block ? t(block) : h && active && !mine ? t(heldByOther ? "hintTakeOverFirst" : "hintClaimFirst") : "";
    ui["reply-hint"].textContent = hint;
    ui["reply-hint"].hidden = !hint;
    ui["reply-hint"].classList.toggle("is-blocked", !!block);
    ui["reply-error"].hidden = !state.replyError;
    ui["reply-error"].textContent = say(state.replyError);
    renderCounter();
  }

  function renderCounter() {
    var n = ui["reply-text"].value.length;
    ui["reply-counter"].textContent = t("counter", { n: n, max: MAX_REPLY });
    ui["reply-counter"].classList.toggle("is-near", n >= MAX_REPLY - 100);
  }

  // ---- actions ----

  function setBusy(busy) {
    state.busy = busy;
    renderActions();
  }

  function afterChange() {
    loadConversation();
    scheduleRefresh();
  }

  function claim(takeOver) {
    var id = state.selectedId;
    if (!id || state.busy) return;
    setBusy(true);
    post(id, "claim", { take_over: !!takeOver }).then(function (r) {
      setBusy(false);
      if (id !== state.selectedId) return;
      if (r.ok) {
        state.collision = null;
        state.notice = { key: "claimedNotice", kind: "ok" };
        state.replyError = null;
        renderConversation(false);
        afterChange();
        if (!ui["reply-text"].disabled) ui["reply-text"].focus();
        return;
      }
      if (r.status === 409 && r.data.error === "claimed") {
        state.collision = str(r.data.assignee) || "?";
        renderConversation(false);
        ui["takeover-button"].focus();
        afterChange();
        return;
      }
      if (r.status === 409) {
        state.notice = { key: "errClosedConv", kind: "error" };
        renderConversation(false);
        afterChange();
        return;
      }
      reportFailure(r);
    });
  }

  function resume() {
    var id = state.selectedId;
    if (!id || state.busy) return;
    setBusy(true);
    stopTyping(true);
    post(id, "resume").then(function (r) {
      setBusy(false);
      if (id !== state.selectedId) return;
      handleActionResult(r, { key: "resumedNotice", kind: "ok" });
    });
  }

  function closeConversation() {
    var id = state.selectedId;
    var outcome = oneOf(ui["outcome-select"].value, OUTCOMES) || "resolved";
    if (!id || state.busy) return;
    setBusy(true);
    stopTyping(true);
    post(id, "close", { outcome: outcome }).then(function (r) {
      setBusy(false);
      if (id !== state.selectedId) return;
      handleActionResult(r, { key: "closedNotice", args: { outcome: { key: "outcome_" + outcome } }, kind: "ok" });
    });
  }

  function handleActionResult(r, success) {
    if (r.ok) {
      state.notice = success;
      state.collision = null;
    } else if (r.status === 409 && r.data.error === "claimed") {
      state.collision = str(r.data.assignee) || "?";
    } else if (r.status === 409 && r.data.error === "not_yours") {
      state.notice = { key: "errNotYours", kind: "warn" };
    } else if (r.status === 409) {
      state.notice = { key: "errClosedConv", kind: "error" };
    } else {
      reportFailure(r);
      return;
    }
    renderConversation(false);
    afterChange();
    ui["conv-title"].focus();
  }

  function sendReply() {
    var id = state.selectedId;
    var textarea = ui["reply-text"];
    var text = textarea.value.trim();
    if (!id || state.sending || textarea.disabled) return;
    if (!text) {
      textarea.focus();
      return;
    }
    state.sending = true;
    state.replyError = null;
    stopTyping(true);
    renderActions();
    post(id, "reply", { text: text.slice(0, MAX_REPLY) }, { quiet: true }).then(function (r) {
      state.sending = false;
      var here = id === state.selectedId;
      if (r.ok) {
        if (here) {
          if (textarea.value.trim() === text) textarea.value = "";
          state.notice = null;
        }
        state.drafts[id] = here ? textarea.value : "";
        if (here) {
          renderConversation(false);
          afterChange();
          textarea.focus();
        }
        return;
      }
      if (!here) return;
      if (r.status === 502 && r.data.error === "delivery") {
        var code = r.data.errcode !== undefined && r.data.errcode !== null ? str(r.data.errcode) : "";
        var known = code && TEXT.en["errcode_" + code] !== undefined;
        var meaning = known ? { key: "errcode_" + code } : str(r.data.detail) || { key: "errcodeUnknown" };
        var channel = { key: "channel_" + (oneOf(str(r.data.channel), ["webchat", "wechat", "rest"]) || (state.detail ? state.detail.handoff.channel : "rest")) };
        state.replyError = { key: code ? "errDelivery" : "errDeliveryNoCode", args: { channel: channel, code: code, meaning: meaning } };
        loadConversation(); // the quota or the window may have changed
      } else if (r.status === 409 && r.data.error === "not_yours") {
        state.replyError = { key: "errNotYours" };
        loadConversation();
      } else if (r.status === 409 && r.data.error === "claimed") {
        state.collision = str(r.data.assignee) || "?";
        loadConversation();
      } else if (r.status === 409) {
        state.replyError = { key: "errClosedConv" };
        loadConversation();
      } else if (r.network || r.status === 401) {
        state.replyError = r.network ? { key: r.timeout ? "errTimeout" : "errNetwork" } : null;
      } else {
        state.replyError = failure(r);
      }
      renderConversation(false);
      if (!textarea.disabled) textarea.focus();
    });
  }

  /* "Staff is typing": at most once every 3 s while typing, "stopped" 5 s after the last key. */
  function typed() {
    var id = state.selectedId;
    var h = state.detail && state.detail.handoff;
    saveDraft();
    renderCounter();
    if (!id || !h || !isMine(h) || h.status === "closed" || !canReply()) return;
    var typing = state.typing;
    var now = Date.now();
    if (typing.id !== id || now - typing.sentAt >= TYPING_EVERY_MS) {
      if (typing.id && typing.id !== id) stopTyping(true);
      typing.id = id;
      typing.sentAt = now;
      post(id, "typing", { typing: true }, { quiet: true });
    }
    clearTimeout(typing.timer);
    typing.timer = setTimeout(function () {
      stopTyping(true);
    }, TYPING_IDLE_MS);
  }

  function stopTyping(tell) {
    var typing = state.typing;
    clearTimeout(typing.timer);
    typing.timer = null;
    if (typing.id && tell && state.me) {
      post(typing.id, "typing", { typing: false }, { quiet: true });
    }
    typing.id = null;
    typing.sentAt = 0;
  }

  // ---- keyboard ----

  function isTextField(node) {
    if (!node || !node.tagName) return false;
    var tag = node.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select" || node.isContentEditable) return true;
    if (tag !== "input") return false;
    return ["button", "checkbox", "radio", "submit", "reset", "range", "color"].indexOf((node.type || "").toLowerCase()) < 0;
  }

  function showHelp() {
    var dialog = ui["shortcut-help"];
    if (dialog.open) return;
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    ui["shortcut-help-close"].focus();
  }

  function onKeydown(event) {
    if (!state.me || ui["console-view"].hidden) return;
    if (ui["shortcut-help"].open) return; // the dialog's own keys (Esc closes it)
    if (event.altKey && !event.ctrlKey && !event.metaKey && (event.code === "KeyN" || event.code === "KeyP")) {
      event.preventDefault();
      move(event.code === "KeyN" ? 1 : -1);
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || isTextField(event.target)) return;
    if (event.key === "j" || event.key === "J") {
      event.preventDefault();
      move(1);
    } else if (event.key === "k" || event.key === "K") {
      event.preventDefault();
      move(-1);
    } else if (event.key === "?") {
      event.preventDefault();
      showHelp();
    }
  }

  function onTabKeydown(event) {
    var index = VIEWS.indexOf(state.view);
    var next = null;
    if (event.key === "ArrowRight" || event.key === "ArrowDown") next = (index + 1) % VIEWS.length;
    else if (event.key === "ArrowLeft" || event.key === "ArrowUp") next = (index + VIEWS.length - 1) % VIEWS.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = VIEWS.length - 1;
    if (next === null) return;
    event.preventDefault();
    setView(VIEWS[next], true);
  }

  // ---- start ----

  function bind() {
    ui["login-form"].addEventListener("submit", submitLogin);
    ui["logout-button"].addEventListener("click", logout);
    ui["lang-toggle"].addEventListener("click", function () {
      setLanguage(state.lang === "zh" ? "en" : "zh");
    });
    ui["banner-close"].addEventListener("click", clearBanner);
    VIEWS.forEach(function (view) {
      ui["tab-" + view].addEventListener("click", function () {
        setView(view, false);
      });
    });
    ui["queue-tabs"].addEventListener("keydown", onTabKeydown);
    ui["queue-list"].addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest(".queue-item") : null;
      if (button) openConversation(button.getAttribute("data-id"), {});
    });
    ui["back-button"].addEventListener("click", closeConversationView);
    ui["claim-button"].addEventListener("click", function () {
      claim(false);
    });
    ui["takeover-button"].addEventListener("click", function () {
      claim(true);
    });
    ui["resume-button"].addEventListener("click", resume);
    ui["close-button"].addEventListener("click", closeConversation);
    ui["reply-form"].addEventListener("submit", function (event) {
      event.preventDefault();
      sendReply();
    });
    ui["reply-text"].addEventListener("input", typed);
    ui["reply-text"].addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        sendReply();
      }
    });
    ui["help-button"].addEventListener("click", showHelp);
    ui["shortcut-help"].addEventListener("click", function (event) {
      if (event.target === ui["shortcut-help"]) ui["shortcut-help"].close(); // the backdrop
    });
    document.addEventListener("keydown", onKeydown);
    // browsers allow sound only after the user has interacted with the page
    document.addEventListener("pointerdown", unlockAudio, true);
    document.addEventListener("keydown", unlockAudio, true);
    window.addEventListener("beforeunload", function () {
      stopTyping(true);
    });
    setInterval(tick, TICK_MS);
    setInterval(function () {
      if (state.me && state.streamState !== "live") refreshQueue();
    }, POLL_MS);
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[id]"), function (node) {
      ui[node.id] = node;
    });
    if (!ui["console-view"]) return; // not the console page
    state.lang = oneOf(load("lang", null), ["zh", "en"]) || browserLang();
    state.view = oneOf(load("view", null), VIEWS) || "waiting";
    ui["reply-text"].setAttribute("maxlength", String(MAX_REPLY));
    bind();
    applyLanguage();
    boot();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
