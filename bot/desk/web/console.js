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
  var MAX_STAFF_TEXT = 2000; // a private note, or each language of a canned reply
  var MAX_QUESTION = 500; // the ask box (what the NLU reads)
  var MAX_LABELS = 10;
  var KEYWORD = /^[a-z0-9_-]{1,32}$/; // canned-reply shortcuts and labels
  var SLASH = /^\/([A-Za-z0-9_-]{0,32})/; // "/hours" at the start of the reply box
  var RECORD_KINDS = ["event", "venue", "theme_day", "fact", "forum_topic", "logistics"];
  var DELETE_CONFIRM_MS = 4000; // a Delete button asks again for this long
  var PAGES = ["queue", "unanswered", "dashboard", "facts"]; // the header's switch (Alt+1/2/3/4)
  var DAY_CHOICES = [1, 7, 14, 31]; // api/reports/unanswered?days=
  var HOUR_CHOICES = [24, 48, 168]; // api/reports/dashboard?hours=
  var DASHBOARD_REFRESH_MS = 60000; // while the dashboard is on screen
  var REPORT_CHECK_MS = 5000; // how often "is the dashboard due?" is asked
  var UNANSWERED_OUTCOMES = ["clarified", "out_of_scope", "handoff", "unhelpful"];
  var DASH_OUTCOMES = ["answered", "clarified", "out_of_scope", "handoff"];
  var DAILY_SERIES = ["answered", "unanswered", "unhelpful"];
  var HOUR_SERIES = ["messages", "conversations"];
  var LABEL_GAP_PX = 46; // the least room an axis label gets, so that labels never overlap
  var SVG_NS = "http://www.w3.org/2000/svg";
  /* Intent names staff read on the dashboard; [name, key, a prefix of a family]. */
  var INTENT_NAMES = [
    ["ask_schedule", "intent_schedule", false],
    ["ask_venue", "intent_venue", false],
    ["ask_theme_day", "intent_theme_day", false],
    ["ask_recruitment", "intent_recruitment", true],
    ["ask_forum", "intent_forum", true],
    ["ask_expo", "intent_expo", true]
  ];

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
      askButton: "问机器人",
      askTitle: "问机器人（不会记入任何对话）",
      askLabel: "问题",
      askKeys: "Enter 提问 · Shift+Enter 换行",
      askSubmit: "提问",
      askBusy: "正在询问…",
      askReplies: "机器人的回答",
      askNoReplies: "（机器人没有回答）",
      askButtons: "按钮：",
      askIntent: "意图",
      askEntities: "实体",
      askNone: "无",
      askRecords: "依据的记录",
      askNoRecords: "问题没有指向数据库中的记录。",
      askUpdated: "最近修改：{who} · {when}",
      askFromSeed: "未经控制台修改（种子数据）",
      recKind: "类型",
      recName: "名称",
      recConfirmed: "是否确认",
      recSource: "来源",
      record_event: "活动",
      record_venue: "场馆",
      record_theme_day: "主题日",
      record_fact: "事实",
      record_forum_topic: "分论坛议题",
      record_logistics: "实用信息（门票、开放时间、停车等）",
      confirmedYes: "✓ 已确认",
      confirmedNo: "✗ 未确认",
      errAskEmpty: "请输入问题。",
      noteMode: "内部备注",
      replyLabelNote: "内部备注（访客看不到）",
      notePlaceholder: "写给同事的备注，访客看不到…",
      addNote: "添加备注",
      noteBy: "内部备注 · {name}",
      noteAdded: "备注已添加（访客看不到）。",
      labelsTitle: "标签",
      labelAddLabel: "添加标签",
      labelAdd: "添加",
      labelPlaceholder: "新标签",
      labelRemove: "移除标签 {label}",
      errLabelInvalid: "标签只能由 1–32 个小写字母、数字、_ 或 - 组成。",
      errLabelTooMany: "每个对话最多 10 个标签。",
      cannedButton: "快捷回复",
      cannedFilter: "筛选快捷回复",
      cannedFilterPlaceholder: "输入关键词筛选…",
      cannedManage: "管理…",
      cannedEmpty: "没有匹配的快捷回复。",
      cannedNoneYet: "还没有快捷回复。",
      cannedLoading: "正在加载快捷回复…",
      cannedManageTitle: "管理快捷回复",
      cannedNone: "还没有快捷回复。",
      cannedShortcut: "快捷词",
      cannedShortcutHint: "1–32 个小写字母、数字、_ 或 -；在回复框开头输入 /快捷词 即可插入。",
      cannedTextZh: "中文内容",
      cannedTextEn: "英文内容",
      cannedSave: "保存",
      cannedAdd: "添加",
      cannedNew: "新建快捷回复",
      cannedEditing: "编辑 /{shortcut}",
      cannedCancelEdit: "取消编辑",
      cannedEdit: "编辑",
      cannedDelete: "删除",
      cannedDeleteConfirm: "确认删除？",
      errShortcutInvalid: "快捷词只能由 1–32 个小写字母、数字、_ 或 - 组成。",
      errShortcutTaken: "快捷词 /{shortcut} 已被使用。",
      errCannedGone: "这条快捷回复已被删除。",
      errCannedText: "中文和英文内容都要填写（每项最多 2000 字）。",
      cannedSaved: "已保存 /{shortcut}。",
      cannedDeleted: "已删除 /{shortcut}。",
      cannedInserted: "已插入快捷回复 /{shortcut}，发送前可以修改。",
      cannedMatches: "{n} 条快捷回复",
      navLabel: "页面",
      navQueue: "队列",
      navUnanswered: "未解答问题",
      navDashboard: "数据概览",
      navFacts: "活动信息",
      factsTitle: "活动信息",
      factsKind: "类型",
      factsFilter: "筛选",
      factsListTitle: "记录",
      factsPick: "请从列表中选择一条记录。",
      factsEmpty: "没有匹配的记录。",
      factsCount: "共 {n} 条",
      factsLoadFailed: "无法加载记录：{why}",
      factUpdated: "最后更新：{who} · {when}",
      factNeverUpdated: "尚未在控制台修改过",
      factKey: "键：{key}",
      factReadOnly: "只读：只有编辑可以修改活动信息。",
      factConflict: "有人修改了这条记录，请重新加载。",
      factReload: "重新加载",
      factSave: "保存",
      factSaving: "正在保存…",
      factSaved: "已保存。",
      factNoChanges: "没有修改需要保存。",
      factInvalid: "未保存：请检查标出的字段。",
      factReview: "请检查：{items}",
      factAliases: "别名",
      factAliasesNone: "还没有别名。",
      factAliasAdd: "添加别名",
      factAliasLang: "别名语言",
      factAliasRemove: "移除别名 {alias}",
      factAliasAdded: "已添加别名 {alias}。",
      factAliasRemoved: "已移除别名 {alias}。",
      factHistory: "修改记录",
      factHistoryEmpty: "还没有修改记录。",
      factHistoryItem: "{field}：{old} → {new}",
      factLangZh: "中文",
      factLangEn: "英文",
      factRequired: "（必填）",
      factSourceHint: "每行一个网址（或 seed）",
      factNone: "—",
      factLoading: "正在加载记录…",
      navWaiting: "（{n} 位访客等待中）",
      skipToContent: "跳到主要内容",
      periodLabel: "时间范围",
      days_1: "最近 1 天",
      days_7: "最近 7 天",
      days_14: "最近 14 天",
      days_31: "最近 31 天",
      hours_24: "最近 24 小时",
      hours_48: "最近 48 小时",
      hours_168: "最近 7 天",
      exportCsv: "导出 CSV",
      exportCsvLabel: "导出 CSV（最近 {n} 天的未解答问题）",
      reportUpdated: "更新于 {time}",
      reportUpdatedAuto: "更新于 {time} · 每 60 秒自动刷新",
      reportFailed: "无法加载报表：{why}",
      reportNoData: "这段时间没有访客消息。",
      unansweredTitle: "未解答问题",
      dailyTitle: "每天的回答情况",
      series_answered: "已回答",
      series_unanswered: "未解答",
      series_unhelpful: "被标为没帮助",
      dailySummary: "{period}：已回答 {answered} 条，未解答 {unanswered} 条，被标为没帮助 {unhelpful} 条。",
      dailyDay: "{day}：已回答 {answered}，未解答 {unanswered}，没帮助 {unhelpful}",
      dailyCaption: "每天的访客消息数",
      colDay: "日期",
      groupsTitle: "机器人没能回答的问题（相似问法已合并）",
      groupsHint: "点击例子可查看它所在的完整对话（只读）。",
      groupsEmpty: "这段时间没有未解答的问题。",
      groupCount: "{n} 次",
      groupOutcomes: "结果",
      groupExamples: "最近的例子",
      exampleLink: "查看对话：{text}",
      uo_answered: "已回答",
      uo_clarified: "反问澄清",
      uo_out_of_scope: "超出范围",
      uo_handoff: "转人工",
      uo_unhelpful: "被标为没帮助",
      transcriptTitle: "对话记录（只读）",
      transcriptId: "对话 ID：{id}",
      backToReport: "← 返回",
      errConversationGone: "找不到这段对话（可能已被清理）。",
      dashboardTitle: "数据概览",
      perHourTitle: "每小时的消息和对话",
      series_messages: "访客消息",
      series_conversations: "对话",
      perHourSummary: "{period}共 {messages} 条访客消息。",
      perHourPeak: "最忙的是 {time} 开始的一小时：{messages} 条消息，{conversations} 个对话。",
      perHourHour: "{time}：{messages} 条消息，{conversations} 个对话",
      perHourCaption: "每小时的访客消息和对话（没有消息的小时已省略）",
      colHour: "时间",
      outcomesTitle: "机器人的回答结果",
      outcomesTotal: "共 {n} 条访客消息",
      outcomeShare: "{name} {pct}（{n} 条）",
      outcomeCount: "{n} 条 · {pct}",
      topicsTitle: "热门话题（已回答的问题）",
      topicsEmpty: "这段时间没有已回答的话题。",
      topicCount: "{n} 次",
      waitTitle: "访客等待人工的时间（中位数）",
      waitHandoffs: "共 {n} 次转人工已由工作人员接起",
      waitNone: "这段时间没有由工作人员接起的转人工。",
      waitSeconds: "{s}秒",
      waitMinutes: "{m}分{s}秒",
      waitHours: "{h}小时{m}分",
      intent_schedule: "日程",
      intent_venue: "场馆",
      intent_theme_day: "主题日",
      intent_recruitment: "招聘",
      intent_forum: "论坛",
      intent_expo: "博览会",
      shortcutsButton: "快捷键",
      shortcutsTitle: "键盘快捷键",
      closeHelp: "关闭",
      shortcutsLine: "Alt+1/2/3/4 切换页面 · Ctrl+Enter 发送 · Alt+N / J 下一个对话 · Alt+P / K 上一个 · Alt+A 问机器人 · ? 快捷键",
      shortcuts: [
        ["Ctrl+Enter / ⌘+Enter", "发送回复（或备注）"],
        ["/快捷词", "在回复框开头输入：插入快捷回复（↑ ↓ 选择，Enter 插入）"],
        ["Alt+N", "下一个对话"],
        ["Alt+P", "上一个对话"],
        ["Alt+A", "问机器人"],
        ["Alt+1 / Alt+2 / Alt+3 / Alt+4", "队列 / 未解答问题 / 数据概览 / 活动信息"],
        ["J / K", "下一个 / 上一个对话（焦点不在输入框时）"],
        ["?", "显示此帮助"],
        ["Esc", "关闭此帮助或对话记录"]
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
      askButton: "Ask the bot",
      askTitle: "Ask the bot (not recorded in any conversation)",
      askLabel: "Question",
      askKeys: "Enter to ask · Shift+Enter new line",
      askSubmit: "Ask",
      askBusy: "Asking…",
      askReplies: "The bot's answer",
      askNoReplies: "(the bot gave no answer)",
      askButtons: "Buttons: ",
      askIntent: "Intent",
      askEntities: "Entities",
      askNone: "none",
      askRecords: "Records behind the answer",
      askNoRecords: "The question names no records in the database.",
      askUpdated: "Last changed by {who}, {when}",
      askFromSeed: "As seeded (not changed in the console)",
      recKind: "Kind",
      recName: "Name",
      recConfirmed: "Confirmed",
      recSource: "Source",
      record_event: "Event",
      record_venue: "Venue",
      record_theme_day: "Theme day",
      record_fact: "Fact",
      record_forum_topic: "Sub-forum topic",
      record_logistics: "Practical info (tickets, hours, parking…)",
      confirmedYes: "✓ confirmed",
      confirmedNo: "✗ unconfirmed",
      errAskEmpty: "Type a question.",
      noteMode: "Private note",
      replyLabelNote: "Private note (the visitor never sees it)",
      notePlaceholder: "A note for staff; the visitor never sees it…",
      addNote: "Add note",
      noteBy: "Private note · {name}",
      noteAdded: "Note added (the visitor does not see it).",
      labelsTitle: "Labels",
      labelAddLabel: "Add a label",
      labelAdd: "Add",
      labelPlaceholder: "new label",
      labelRemove: "Remove label {label}",
      errLabelInvalid: "A label is 1–32 lower-case letters, digits, _ or -.",
      errLabelTooMany: "At most 10 labels per conversation.",
      cannedButton: "Canned replies",
      cannedFilter: "Filter canned replies",
      cannedFilterPlaceholder: "Type to filter…",
      cannedManage: "Manage…",
      cannedEmpty: "No canned reply matches.",
      cannedNoneYet: "No canned replies yet.",
      cannedLoading: "Loading canned replies…",
      cannedManageTitle: "Manage canned replies",
      cannedNone: "No canned replies yet.",
      cannedShortcut: "Shortcut",
      cannedShortcutHint: "1–32 lower-case letters, digits, _ or -; type /shortcut at the start of the reply box to insert it.",
      cannedTextZh: "Chinese text",
      cannedTextEn: "English text",
      cannedSave: "Save",
      cannedAdd: "Add",
      cannedNew: "New canned reply",
      cannedEditing: "Editing /{shortcut}",
      cannedCancelEdit: "Cancel editing",
      cannedEdit: "Edit",
      cannedDelete: "Delete",
      cannedDeleteConfirm: "Really delete?",
      errShortcutInvalid: "A shortcut is 1–32 lower-case letters, digits, _ or -.",
      errShortcutTaken: "The shortcut /{shortcut} is taken.",
      errCannedGone: "This canned reply has been deleted.",
      errCannedText: "Fill in both the Chinese and the English text (at most 2000 characters each).",
      cannedSaved: "Saved /{shortcut}.",
      cannedDeleted: "Deleted /{shortcut}.",
      cannedInserted: "Inserted the canned reply /{shortcut}; edit it before sending if needed.",
      cannedMatches: "{n} canned replies",
      navLabel: "Pages",
      navQueue: "Queue",
      navUnanswered: "Unanswered",
      navDashboard: "Dashboard",
      navFacts: "Facts",
      factsTitle: "Facts",
      factsKind: "Kind",
      factsFilter: "Filter",
      factsListTitle: "Records",
      factsPick: "Pick a record from the list.",
      factsEmpty: "No matching records.",
      factsCount: "Records: {n}",
      factsLoadFailed: "The records could not be loaded: {why}",
      factUpdated: "Last updated: {who} · {when}",
      factNeverUpdated: "Not changed in the console yet",
      factKey: "Key: {key}",
      factReadOnly: "Read-only: only editors can change facts.",
      factConflict: "Someone changed this record; reload it.",
      factReload: "Reload",
      factSave: "Save",
      factSaving: "Saving…",
      factSaved: "Saved.",
      factNoChanges: "Nothing to save: no field was changed.",
      factInvalid: "Not saved: check the marked fields.",
      factReview: "Please check: {items}",
      factAliases: "Aliases",
      factAliasesNone: "No aliases yet.",
      factAliasAdd: "Add an alias",
      factAliasLang: "Alias language",
      factAliasRemove: "Remove the alias {alias}",
      factAliasAdded: "Alias {alias} added.",
      factAliasRemoved: "Alias {alias} removed.",
      factHistory: "Change history",
      factHistoryEmpty: "No changes yet.",
      factHistoryItem: "{field}: {old} → {new}",
      factLangZh: "Chinese",
      factLangEn: "English",
      factRequired: "(required)",
      factSourceHint: "One URL (or seed) per line",
      factNone: "—",
      factLoading: "Loading the record…",
      navWaiting: " ({n} visitors waiting)",
      skipToContent: "Skip to the main content",
      periodLabel: "Period",
      days_1: "Last day",
      days_7: "Last 7 days",
      days_14: "Last 14 days",
      days_31: "Last 31 days",
      hours_24: "Last 24 hours",
      hours_48: "Last 48 hours",
      hours_168: "Last 7 days",
      exportCsv: "Export CSV",
      exportCsvLabel: "Export CSV (unanswered questions of the last {n} days)",
      reportUpdated: "Updated {time}",
      reportUpdatedAuto: "Updated {time} · refreshes every 60 s",
      reportFailed: "The report could not be loaded: {why}",
      reportNoData: "No visitor messages in this period.",
      unansweredTitle: "Unanswered questions",
      dailyTitle: "Answers per day",
      series_answered: "Answered",
      series_unanswered: "Unanswered",
      series_unhelpful: "Marked unhelpful",
      dailySummary: "{period}: {answered} answered, {unanswered} unanswered, {unhelpful} marked unhelpful.",
      dailyDay: "{day}: {answered} answered, {unanswered} unanswered, {unhelpful} unhelpful",
      dailyCaption: "Visitor messages per day",
      colDay: "Day",
      groupsTitle: "Questions the bot could not answer (similar wordings together)",
      groupsHint: "Pick an example to read its whole conversation (read-only).",
      groupsEmpty: "No unanswered questions in this period.",
      groupCount: "×{n}",
      groupOutcomes: "Outcomes",
      groupExamples: "Latest examples",
      exampleLink: "Read the conversation: {text}",
      uo_answered: "answered",
      uo_clarified: "clarified",
      uo_out_of_scope: "out of scope",
      uo_handoff: "handed over",
      uo_unhelpful: "marked unhelpful",
      transcriptTitle: "Transcript (read-only)",
      transcriptId: "Conversation ID: {id}",
      backToReport: "← Back",
      errConversationGone: "This conversation was not found (it may have been cleaned up).",
      dashboardTitle: "Dashboard",
      perHourTitle: "Messages and conversations per hour",
      series_messages: "Visitor messages",
      series_conversations: "Conversations",
      perHourSummary: "{period}: {messages} visitor messages.",
      perHourPeak: "Busiest hour from {time}: {messages} messages, {conversations} conversations.",
      perHourHour: "{time}: {messages} messages, {conversations} conversations",
      perHourCaption: "Visitor messages and conversations per hour (hours without messages left out)",
      colHour: "Hour",
      outcomesTitle: "What the bot did with each message",
      outcomesTotal: "{n} visitor messages",
      outcomeShare: "{name} {pct} ({n})",
      outcomeCount: "{n} · {pct}",
      topicsTitle: "Top topics (answered questions)",
      topicsEmpty: "No answered topics in this period.",
      topicCount: "{n}",
      waitTitle: "Median wait for a person",
      waitHandoffs: "{n} handoffs picked up by staff",
      waitNone: "No handoffs were picked up by staff in this period.",
      waitSeconds: "{s} s",
      waitMinutes: "{m} min {s} s",
      waitHours: "{h} h {m} min",
      intent_schedule: "Schedule",
      intent_venue: "Venue",
      intent_theme_day: "Theme day",
      intent_recruitment: "Recruitment",
      intent_forum: "Forums",
      intent_expo: "Expo",
      shortcutsButton: "Shortcuts",
      shortcutsTitle: "Keyboard shortcuts",
      closeHelp: "Close",
      shortcutsLine: "Alt+1/2/3/4 pages · Ctrl+Enter send · Alt+N / J next · Alt+P / K previous · Alt+A ask the bot · ? shortcuts",
      shortcuts: [
        ["Ctrl+Enter / ⌘+Enter", "Send the reply (or the note)"],
        ["/shortcut", "At the start of the reply box: insert a canned reply (↑ ↓ to choose, Enter to insert)"],
        ["Alt+N", "Next conversation"],
        ["Alt+P", "Previous conversation"],
        ["Alt+A", "Ask the bot"],
        ["Alt+1 / Alt+2 / Alt+3 / Alt+4", "Queue / Unanswered questions / Dashboard / Facts"],
        ["J / K", "Next / previous conversation (when not typing in a field)"],
        ["?", "Show this help"],
        ["Esc", "Close this help or a transcript"]
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
    bootRetryMs: 3000,
    noteMode: false, // the reply box adds a private note instead of replying
    labelBusy: false,
    canned: null, // the canned replies, once loaded
    cannedPanel: null, // null: closed; "picker": the button's list; "slash": "/..." typed in the reply box
    cannedActive: 0, // the highlighted entry of the list
    cannedEditing: null, // id of the canned reply in the management form (null: a new one)
    cannedError: null,
    cannedConfirm: null, // id whose Delete button asks again
    cannedConfirmTimer: null,
    ask: { busy: false, question: "", result: null, error: null },
    page: "queue", // queue | unanswered | dashboard
    reports: {
      unanswered: { days: 7, data: null, error: null, loading: false, seq: 0, at: null, asked: 0 },
      dashboard: { hours: 24, data: null, error: null, loading: false, seq: 0, at: null, asked: 0 }
    },
    reportConv: null, // the read-only transcript opened from a report: {id, example, transcript, error}
    facts: null // the Facts page: see resetFacts()
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
      outcome: h.outcome ? str(h.outcome) : null,
      closed_at: parseTime(h.closed_at),
      labels: (Array.isArray(h.labels) ? h.labels : []).map(str).filter(function (label) {
        return KEYWORD.test(label);
      })
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

  function cleanNote(n) {
    if (!n || typeof n !== "object") return null;
    return { kind: "note", text: str(n.text), at: parseTime(n.at), staff: n.staff ? str(n.staff) : null, intent: null, confidence: null };
  }

  function cleanDetail(data) {
    var handoff = cleanHandoff(data && data.handoff);
    if (!handoff) return null;
    var wechat = data.wechat && typeof data.wechat === "object" ? data.wechat : null;
    return {
      handoff: handoff,
      transcript: (Array.isArray(data.transcript) ? data.transcript : []).map(cleanMessage).filter(Boolean),
      notes: (Array.isArray(data.notes) ? data.notes : []).map(cleanNote).filter(Boolean),
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

  /* Notes and labels: anyone who sees the queue, holding the conversation or not. */
  function canAnnotate() {
    return state.permissions.indexOf("queue") >= 0;
  }

  function canEditCanned() {
    return state.permissions.indexOf("edit_canned") >= 0;
  }

  function cleanCanned(c) {
    if (!c || typeof c !== "object" || !/^\d+$/.test(str(c.id))) return null;
    var shortcut = str(c.shortcut);
    if (!KEYWORD.test(shortcut)) return null;
    return { id: String(c.id), shortcut: shortcut, text_zh: str(c.text_zh), text_en: str(c.text_en) };
  }

  function cleanAsk(data) {
    var intent = data.intent && typeof data.intent === "object" ? data.intent : null;
    return {
      replies: (Array.isArray(data.replies) ? data.replies : []).map(function (r) {
        r = r && typeof r === "object" ? r : {};
        var buttons = Array.isArray(r.buttons) ? r.buttons : [];
        return {
          text: str(r.text),
          buttons: buttons.map(function (b) {
            return b && typeof b === "object" ? str(b.title) : str(b);
          }).filter(Boolean)
        };
      }),
      intent: intent && intent.name ? {
        name: str(intent.name),
        confidence: typeof intent.confidence === "number" && isFinite(intent.confidence) ? intent.confidence : null
      } : null,
      entities: (Array.isArray(data.entities) ? data.entities : []).map(function (e) {
        e = e && typeof e === "object" ? e : {};
        return { entity: str(e.entity), value: str(e.value) };
      }),
      records: (Array.isArray(data.records) ? data.records : []).map(function (r) {
        r = r && typeof r === "object" ? r : {};
        return {
          kind: str(r.kind),
          key: str(r.key),
          name: str(r.name) || str(r.key),
          source: str(r.source),
          confirmed: r.confirmed === true,
          note: r.note ? str(r.note) : null,
          updated: r.last_updated && typeof r.last_updated === "object"
            ? { when: str(r.last_updated.when), who: str(r.last_updated.who) }
            : null
        };
      })
    };
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
    ui["label-input"].setAttribute("placeholder", t("labelPlaceholder"));
    ui["canned-filter"].setAttribute("placeholder", t("cannedFilterPlaceholder"));
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
    renderPage();
    renderWho();
    renderLive();
    renderBanner();
    renderLoginError();
    renderTabs();
    renderQueue();
    renderConversation(true);
    renderCannedPanel();
    renderCannedManage();
    renderAsk();
    renderReportTranscript();
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
    closeDialogs();
    ui["ask-button"].hidden = true;
    ui["console-view"].hidden = true;
    ui["unanswered-view"].hidden = true;
    ui["dashboard-view"].hidden = true;
    ui["facts-view"].hidden = true;
    ui["app-nav"].hidden = true;
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
    ui["shortcuts-footer"].hidden = false;
    ui["logout-button"].hidden = false;
    ui["who"].hidden = false;
    ui["live-status"].hidden = false;
    ui["ask-button"].hidden = !canAnnotate();
    ui["login-password"].value = "";
    state.loginError = null;
    document.body.classList.remove("is-loading");
    document.body.setAttribute("data-screen", "console");
    if (!canAnnotate()) state.page = "queue"; // the reports need the queue permission
    renderAll();
    refreshQueue();
    startStream();
    loadCanned();
    loadPage();
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
    state.noteMode = false;
    state.canned = null;
    state.cannedPanel = null;
    state.cannedEditing = null;
    state.cannedError = null;
    state.ask = { busy: false, question: "", result: null, error: null };
    ["unanswered", "dashboard"].forEach(function (name) {
      var report = state.reports[name];
      report.seq++; // an answer still on its way is for the old session
      report.data = null;
      report.error = null;
      report.loading = false;
      report.at = null;
      report.asked = 0;
    });
    state.reportConv = null;
    resetFacts();
    ui["ask-text"].value = "";
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
    renderNavCount();
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
    if (h.status === "closed") return t("endedAt", { time: clock(h.closed_at !== null ? h.closed_at : h.updated_at) });
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
        h.labels.length
          ? el("span", { class: "qi-labels", "aria-label": t("labelsTitle") }, h.labels.map(function (label) {
              return el("span", { class: "label-chip qi-label", text: label });
            }))
          : null,
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
      state.noteMode = false; // a new conversation starts in reply mode: notes are a choice
      state.cannedPanel = null;
      ui["label-input"].value = "";
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
    renderLabels(h);
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
    var items = withNotes(detail.transcript, detail.notes);
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

  /* The transcript with the notes put in by time (a note after a message of the same time). */
  function withNotes(messages, notes) {
    var out = [];
    var j = 0;
    messages.forEach(function (m) {
      while (j < notes.length && notes[j].at !== null && m.at !== null && notes[j].at < m.at) out.push(notes[j++]);
      out.push(m);
    });
    return out.concat(notes.slice(j));
  }

  function messageItem(m) {
    var head = [];
    if (m.kind === "note") {
      return el("li", { class: "msg msg-note", "data-kind": "note" }, [
        el("div", { class: "msg-head" }, [
          el("span", { class: "msg-who", text: t("noteBy", { name: m.staff || "?" }) }),
          m.at !== null ? el("time", { class: "msg-time", datetime: new Date(m.at).toISOString(), text: clock(m.at) }) : null
        ]),
        el("p", { class: "msg-text", lang: textLang(m.text), text: m.text })
      ]);
    }
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
    var note = inNoteMode();
    var noteOnly = note && !(allowed && active); // closed, or no permission to reply
    form.hidden = !(h && ((allowed && active) || canAnnotate()));
    form.classList.toggle("is-note", note);
    ui["note-mode"].checked = note;
    ui["note-mode"].disabled = noteOnly;
    ui["note-mode"].parentNode.hidden = !canAnnotate();
    ui["reply-label"].textContent = t(note ? "replyLabelNote" : "replyLabel");
    var block = note ? null : wechatBlock(); // a note goes to no channel
    var textarea = ui["reply-text"];
    textarea.disabled = !!block;
    textarea.setAttribute("placeholder", t(note ? "notePlaceholder" : "replyPlaceholder"));
    ui["canned-button"].disabled = !!block;
    ui["send-button"].disabled = !!block || state.sending;
    ui["send-button"].textContent = state.sending ? t("sending") : t(note ? "addNote" : "send");
    form.setAttribute("aria-busy", state.sending ? "true" : "false");
    var hint = block ? t(block) : !note && h && active && !mine ? t(heldByOther ? "hintTakeOverFirst" : "hintClaimFirst") : "";
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

  /* A change's answer carries the conversation as it now is: shown at once, so the header and
     the buttons never say "Unclaimed" next to "You now hold this conversation". */
  function adoptHandoff(r) {
    var fresh = cleanHandoff(r.data && r.data.handoff);
    if (fresh && state.detail && String(fresh.id) === String(state.selectedId)) state.detail.handoff = fresh;
  }

  function claim(takeOver) {
    var id = state.selectedId;
    if (!id || state.busy) return;
    setBusy(true);
    post(id, "claim", { take_over: !!takeOver }).then(function (r) {
      setBusy(false);
      if (id !== state.selectedId) return;
      if (r.ok) {
        adoptHandoff(r);
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
      adoptHandoff(r);
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
    if (inNoteMode()) return sendNote();
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
    updateSlash();
    if (!id || !h || !isMine(h) || h.status === "closed" || !canReply() || inNoteMode()) return;
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

  // ---- private notes ----

  /* Whether the reply box adds a note: chosen, or all that is possible (a closed conversation). */
  function inNoteMode() {
    var h = state.detail ? state.detail.handoff : null;
    if (!h || !canAnnotate()) return false;
    return state.noteMode || !(canReply() && h.status !== "closed");
  }

  function setNoteMode(on) {
    state.noteMode = on;
    state.replyError = null;
    if (on) stopTyping(true); // a note is for staff: the visitor sees no "typing" for it
    renderActions();
  }

  function sendNote() {
    var id = state.selectedId;
    var textarea = ui["reply-text"];
    var text = textarea.value.trim();
    if (!id || state.sending) return;
    if (!text) {
      textarea.focus();
      return;
    }
    state.sending = true;
    state.replyError = null;
    closeCanned(false);
    renderActions();
    post(id, "notes", { text: text.slice(0, MAX_STAFF_TEXT) }, { quiet: true }).then(function (r) {
      state.sending = false;
      var here = id === state.selectedId;
      if (r.ok) {
        if (here && textarea.value.trim() === text) textarea.value = "";
        state.drafts[id] = here ? textarea.value : "";
        if (here) {
          announce(t("noteAdded"));
          renderConversation(false);
          afterChange();
          textarea.focus();
        }
        return;
      }
      if (!here) return;
      if (r.network) state.replyError = { key: r.timeout ? "errTimeout" : "errNetwork" };
      else if (r.status !== 401) state.replyError = failure(r);
      renderConversation(false);
      textarea.focus();
    });
  }

  // ---- labels ----

  function selectedHandoff() {
    return state.detail ? state.detail.handoff : findHandoff(state.selectedId);
  }

  function renderLabels(h) {
    var box = ui["conv-labels"];
    var list = ui["label-list"];
    var active = document.activeElement;
    var focused = active && list.contains(active) ? active.getAttribute("data-label") : null;
    box.hidden = !h || !canAnnotate();
    list.textContent = "";
    if (!h) return;
    h.labels.forEach(function (label) {
      var name = t("labelRemove", { label: label });
      list.appendChild(
        el("li", { class: "label-chip", "data-label-chip": label }, [
          el("span", { class: "label-text", text: label }),
          el("button", { type: "button", class: "label-remove", "data-label": label, "aria-label": name, title: name, text: "×" })
        ])
      );
    });
    ui["label-add"].disabled = state.labelBusy || h.labels.length >= MAX_LABELS;
    if (focused) {
      var again = list.querySelector('button[data-label="' + focused + '"]'); // a checked keyword
      (again || ui["label-input"]).focus();
    }
  }

  /* Replaces the selected conversation's labels; resolves true when the server took them. */
  function saveLabels(labels) {
    var id = state.selectedId;
    if (!id || state.labelBusy) return Promise.resolve(false);
    state.labelBusy = true;
    renderLabels(selectedHandoff());
    return post(id, "labels", { labels: labels }).then(function (r) {
      state.labelBusy = false;
      if (id !== state.selectedId) return false;
      if (r.ok) {
        adoptHandoff(r);
        if (state.notice && state.notice.kind === "error") state.notice = null;
        renderConversation(false);
        scheduleRefresh();
        return true;
      }
      if (r.status !== 401 && !r.network) state.notice = { key: failure(r).key, args: failure(r).args, kind: "error" };
      renderConversation(false);
      return false;
    });
  }

  function labelError(key) {
    state.notice = { key: key, kind: "error" };
    renderNotice();
    ui["label-input"].focus();
  }

  function addLabel(event) {
    event.preventDefault();
    var h = selectedHandoff();
    var input = ui["label-input"];
    var label = input.value.trim().toLowerCase();
    if (!h || !label) return;
    if (!KEYWORD.test(label)) return labelError("errLabelInvalid");
    if (h.labels.indexOf(label) >= 0) {
      input.value = "";
      return;
    }
    if (h.labels.length >= MAX_LABELS) return labelError("errLabelTooMany");
    saveLabels(h.labels.concat([label])).then(function (saved) {
      if (saved) input.value = "";
      input.focus();
    });
  }

  function removeLabel(label) {
    var h = selectedHandoff();
    if (!h) return;
    saveLabels(
      h.labels.filter(function (other) {
        return other !== label;
      })
    );
  }

  // ---- canned replies ----

  function loadCanned() {
    return api("GET", "api/canned", undefined, { quiet: true }).then(function (r) {
      if (r.ok && state.me) {
        state.canned = (Array.isArray(r.data.canned) ? r.data.canned : []).map(cleanCanned).filter(Boolean);
        if (state.cannedEditing && !findCanned(state.cannedEditing)) state.cannedEditing = null;
        renderCannedPanel();
        renderCannedManage();
      }
      return r;
    });
  }

  function findCanned(id) {
    var list = state.canned || [];
    for (var i = 0; i < list.length; i++) if (list[i].id === id) return list[i];
    return null;
  }

  /* Canned replies go in the conversation's language, whatever the console's is. */
  function conversationLang() {
    var h = selectedHandoff();
    return oneOf(h && h.language, ["zh", "en"]) || state.lang;
  }

  function cannedText(c) {
    return conversationLang() === "en" ? c.text_en : c.text_zh;
  }

  /* What follows "/" when the reply box starts with "/word" and the caret is in that word. */
  function slashQuery() {
    var box = ui["reply-text"];
    var match = SLASH.exec(box.value);
    if (!match || box.selectionStart !== box.selectionEnd) return null;
    if (box.selectionStart < 1 || box.selectionStart > match[0].length) return null;
    return match[1].toLowerCase();
  }

  function cannedMatches() {
    var list = state.canned || [];
    if (state.cannedPanel === "slash") {
      var query = slashQuery() || "";
      var starts = list.filter(function (c) {
        return c.shortcut.indexOf(query) === 0;
      });
      return starts.concat(
        list.filter(function (c) {
          return c.shortcut.indexOf(query) > 0;
        })
      );
    }
    var words = ui["canned-filter"].value.trim().toLowerCase().replace(/^\//, "");
    return list.filter(function (c) {
      return !words || c.shortcut.indexOf(words) >= 0 || c.text_zh.toLowerCase().indexOf(words) >= 0 || c.text_en.toLowerCase().indexOf(words) >= 0;
    });
  }

  /* After each keystroke in the reply box: offer the canned replies "/..." names. */
  function updateSlash() {
    if (state.cannedPanel === "picker") return;
    var was = state.cannedPanel;
    state.cannedPanel = slashQuery() !== null ? "slash" : null;
    var matches = state.cannedPanel ? cannedMatches() : [];
    if (!matches.length) state.cannedPanel = null;
    state.cannedActive = 0;
    renderCannedPanel();
    if (state.cannedPanel && !was) announce(t("cannedMatches", { n: matches.length }));
  }

  function toggleCannedPicker() {
    if (state.cannedPanel === "picker") return closeCanned(true);
    state.cannedPanel = "picker";
    state.cannedActive = 0;
    ui["canned-filter"].value = "";
    renderCannedPanel();
    ui["canned-filter"].focus();
    loadCanned(); // an editor may have changed them meanwhile
  }

  function closeCanned(focusButton) {
    var was = state.cannedPanel;
    if (!was) return;
    state.cannedPanel = null;
    renderCannedPanel();
    if (focusButton && was === "picker") ui["canned-button"].focus();
  }

  function renderCannedPanel() {
    var mode = state.cannedPanel;
    var list = ui["canned-list"];
    var active = document.activeElement;
    var focused = active && list.contains(active) ? active.getAttribute("data-id") : null;
    ui["canned-panel"].hidden = !mode;
    ui["canned-panel"].setAttribute("data-mode", mode || "");
    ui["canned-button"].setAttribute("aria-expanded", mode === "picker" ? "true" : "false");
    ui["canned-filter"].parentNode.hidden = mode !== "picker";
    ui["canned-manage"].hidden = !canEditCanned();
    list.textContent = "";
    if (!mode) return;
    var matches = cannedMatches();
    var lang = conversationLang() === "en" ? "en" : "zh-CN";
    state.cannedActive = Math.max(0, Math.min(state.cannedActive, matches.length - 1));
    matches.forEach(function (c, i) {
      var button = el("button", { type: "button", class: "canned-item" + (i === state.cannedActive ? " is-active" : ""), "data-id": c.id, "data-shortcut": c.shortcut }, [
        el("span", { class: "canned-shortcut", text: "/" + c.shortcut }),
        el("span", { class: "canned-preview", lang: lang, text: cannedText(c) })
      ]);
      list.appendChild(el("li", {}, [button]));
    });
    var empty = ui["canned-empty"];
    empty.hidden = matches.length > 0;
    empty.textContent = state.canned === null ? t("cannedLoading") : state.canned.length ? t("cannedEmpty") : t("cannedNoneYet");
    var highlighted = list.querySelector(".is-active");
    if (highlighted && highlighted.scrollIntoView) highlighted.scrollIntoView({ block: "nearest" });
    if (focused) {
      var again = list.querySelector('button[data-id="' + focused + '"]'); // ids are the server's numbers
      (again || ui["canned-filter"]).focus();
    }
  }

  function moveCanned(delta) {
    var count = ui["canned-list"].querySelectorAll(".canned-item").length;
    if (!count) return;
    state.cannedActive = (state.cannedActive + delta + count) % count;
    renderCannedPanel();
  }

  function activeCanned() {
    var button = ui["canned-list"].querySelector(".canned-item.is-active");
    return button ? findCanned(button.getAttribute("data-id")) : null;
  }

  /* Puts the reply in the box (replacing "/word", else the selection) for staff to edit. */
  function insertCanned(c) {
    var box = ui["reply-text"];
    if (!c || box.disabled) return;
    var text = cannedText(c);
    var value = box.value;
    var match = state.cannedPanel === "slash" ? SLASH.exec(value) : null;
    var start = match ? 0 : box.selectionStart;
    var end = match ? match[0].length : box.selectionEnd;
    var next = (value.slice(0, start) + text + value.slice(end)).slice(0, MAX_REPLY);
    var caret = Math.min(start + text.length, next.length);
    box.value = next;
    closeCanned(false);
    box.focus();
    box.setSelectionRange(caret, caret);
    announce(t("cannedInserted", { shortcut: c.shortcut }));
    typed();
  }

  /* Arrow keys, Enter / Tab and Esc while "/..." offers canned replies; true when used. */
  function slashKey(event) {
    if (state.cannedPanel === "slash" && slashQuery() === null) closeCanned(false); // the caret left "/word"
    if (state.cannedPanel !== "slash" || event.ctrlKey || event.metaKey || event.altKey) return false;
    if (event.isComposing || event.keyCode === 229) return false; // an input method's Enter
    if (event.key === "ArrowDown" || event.key === "ArrowUp") moveCanned(event.key === "ArrowDown" ? 1 : -1);
    else if ((event.key === "Enter" && !event.shiftKey) || (event.key === "Tab" && !event.shiftKey)) insertCanned(activeCanned());
    else if (event.key === "Escape") closeCanned(false);
    else return false;
    event.preventDefault();
    return true;
  }

  function onFilterKey(event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      moveCanned(event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter" && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      insertCanned(activeCanned());
    }
  }

  // ---- canned replies: the editors' dialog ----

  function openCannedManage() {
    closeCanned(false);
    state.cannedError = null;
    editCanned(null);
    showDialog(ui["canned-dialog"], ui["canned-shortcut"]);
    loadCanned();
  }

  function editCanned(c) {
    state.cannedEditing = c ? c.id : null;
    state.cannedError = null;
    ui["canned-shortcut"].value = c ? c.shortcut : "";
    ui["canned-zh"].value = c ? c.text_zh : "";
    ui["canned-en"].value = c ? c.text_en : "";
    renderCannedManage();
  }

  function renderCannedManage() {
    var list = ui["canned-manage-list"];
    var active = document.activeElement;
    var focused = active && list.contains(active) ? [active.getAttribute("data-id"), active.getAttribute("data-action")] : null;
    list.textContent = "";
    (state.canned || []).forEach(function (c) {
      var confirm = state.cannedConfirm === c.id;
      list.appendChild(
        el("li", { class: "canned-row" + (state.cannedEditing === c.id ? " is-editing" : ""), "data-id": c.id }, [
          el("div", { class: "canned-row-text" }, [
            el("span", { class: "canned-shortcut", text: "/" + c.shortcut }),
            el("span", { class: "canned-row-zh", lang: "zh-CN", text: c.text_zh }),
            el("span", { class: "canned-row-en", lang: "en", text: c.text_en })
          ]),
          el("div", { class: "canned-row-actions" }, [
            el("button", { type: "button", class: "btn btn-small", "data-id": c.id, "data-action": "edit", "aria-label": t("cannedEdit") + " /" + c.shortcut, text: t("cannedEdit") }),
            el("button", {
              type: "button",
              class: "btn btn-small" + (confirm ? " btn-danger" : ""),
              "data-id": c.id,
              "data-action": "delete",
              "aria-label": t(confirm ? "cannedDeleteConfirm" : "cannedDelete") + " /" + c.shortcut,
              text: t(confirm ? "cannedDeleteConfirm" : "cannedDelete")
            })
          ])
        ])
      );
    });
    ui["canned-manage-empty"].hidden = !state.canned || state.canned.length > 0;
    var current = findCanned(state.cannedEditing);
    ui["canned-form-title"].textContent = current ? t("cannedEditing", { shortcut: current.shortcut }) : t("cannedNew");
    ui["canned-save"].textContent = t(current ? "cannedSave" : "cannedAdd");
    ui["canned-cancel"].hidden = !current;
    ui["canned-form-error"].hidden = !state.cannedError;
    ui["canned-form-error"].textContent = say(state.cannedError);
    if (focused) {
      var again = list.querySelector('button[data-id="' + focused[0] + '"][data-action="' + focused[1] + '"]');
      (again || ui["canned-shortcut"]).focus();
    }
  }

  function cannedFormError(desc, field) {
    state.cannedError = desc;
    renderCannedManage();
    if (field) field.focus();
  }

  function saveCanned(event) {
    event.preventDefault();
    var shortcut = ui["canned-shortcut"].value.trim().toLowerCase().replace(/^\//, "");
    var zh = ui["canned-zh"].value.trim();
    var en = ui["canned-en"].value.trim();
    if (!KEYWORD.test(shortcut)) return cannedFormError({ key: "errShortcutInvalid" }, ui["canned-shortcut"]);
    if (!zh || zh.length > MAX_STAFF_TEXT) return cannedFormError({ key: "errCannedText" }, ui["canned-zh"]);
    if (!en || en.length > MAX_STAFF_TEXT) return cannedFormError({ key: "errCannedText" }, ui["canned-en"]);
    var editing = state.cannedEditing;
    var save = ui["canned-save"];
    if (save.disabled) return;
    save.disabled = true;
    var path = editing ? "api/canned/" + encodeURIComponent(editing) : "api/canned";
    api("POST", path, { shortcut: shortcut, text_zh: zh, text_en: en }, { quiet: true }).then(function (r) {
      save.disabled = false;
      if (r.ok) {
        announce(t("cannedSaved", { shortcut: shortcut }));
        editCanned(null);
        loadCanned();
        ui["canned-shortcut"].focus();
      } else if (r.status === 409) {
        cannedFormError({ key: "errShortcutTaken", args: { shortcut: shortcut } }, ui["canned-shortcut"]);
      } else if (r.status === 404) {
        state.cannedEditing = null; // deleted meanwhile: saving again adds it anew
        cannedFormError({ key: "errCannedGone" }, null);
        loadCanned();
      } else if (r.status !== 401) {
        cannedFormError(failure(r), null);
      }
    });
  }

  /* Delete asks again: the first press turns the button into "Really delete?" for a moment. */
  function deleteCanned(id) {
    clearTimeout(state.cannedConfirmTimer);
    if (state.cannedConfirm !== id) {
      state.cannedConfirm = id;
      state.cannedConfirmTimer = setTimeout(function () {
        state.cannedConfirm = null;
        renderCannedManage();
      }, DELETE_CONFIRM_MS);
      renderCannedManage();
      return;
    }
    state.cannedConfirm = null;
    var c = findCanned(id);
    api("POST", "api/canned/" + encodeURIComponent(id) + "/delete", {}, { quiet: true }).then(function (r) {
      if (r.ok || r.status === 404) {
        if (state.cannedEditing === id) editCanned(null);
        announce(t("cannedDeleted", { shortcut: c ? c.shortcut : id }));
        ui["canned-shortcut"].focus();
        loadCanned();
      } else if (r.status !== 401) {
        cannedFormError(failure(r), null);
      }
    });
  }

  function onManageClick(event) {
    var button = event.target.closest ? event.target.closest("button[data-action]") : null;
    if (!button) return;
    var id = button.getAttribute("data-id");
    if (button.getAttribute("data-action") === "edit") {
      editCanned(findCanned(id));
      ui["canned-shortcut"].focus();
    } else deleteCanned(id);
  }

  // ---- dialogs ----

  var dialogOpeners = {};

  function showDialog(dialog, focus) {
    if (!dialog.open) {
      dialogOpeners[dialog.id] = document.activeElement;
      if (typeof dialog.showModal === "function") dialog.showModal();
      else dialog.setAttribute("open", "");
    }
    if (focus) focus.focus();
  }

  function closeDialog(dialog) {
    if (!dialog.open) return;
    if (typeof dialog.close === "function") dialog.close();
    else dialog.removeAttribute("open");
  }

  function closeDialogs() {
    ["ask-dialog", "canned-dialog", "shortcut-help", "report-transcript-dialog"].forEach(function (id) {
      closeDialog(ui[id]);
    });
  }

  /* Back to where the dialog was opened from, when that is still on the page. */
  function dialogClosed(event) {
    var opener = dialogOpeners[event.target.id];
    dialogOpeners[event.target.id] = null;
    if (opener && opener.focus && document.body.contains(opener) && opener.offsetParent !== null) opener.focus();
  }

  // ---- ask the bot ----

  function openAsk() {
    closeCanned(false);
    showDialog(ui["ask-dialog"], ui["ask-text"]);
    ui["ask-text"].select();
  }

  function submitAsk(event) {
    if (event) event.preventDefault();
    var ask = state.ask;
    var text = ui["ask-text"].value.trim();
    if (ask.busy) return;
    if (!text) {
      ask.error = { key: "errAskEmpty" };
      renderAsk();
      ui["ask-text"].focus();
      return;
    }
    ask.busy = true;
    ask.error = null;
    ask.question = text;
    renderAsk();
    api("POST", "api/ask", { text: text.slice(0, MAX_QUESTION) }, { quiet: true }).then(function (r) {
      if (ask !== state.ask) return; // logged out meanwhile
      ask.busy = false;
      if (r.ok) {
        ask.result = cleanAsk(r.data);
        ask.error = null;
      } else if (r.network) {
        ask.error = { key: r.timeout ? "errTimeout" : "errNetwork" };
      } else if (r.status !== 401) {
        ask.error = failure(r);
      }
      renderAsk();
      if (r.ok) {
        announce(ask.result.replies.map(function (reply) {
          return reply.text;
        }).join(" ") || t("askNoReplies"));
      }
    });
  }

  function renderAsk() {
    var ask = state.ask;
    ui["ask-submit"].disabled = ask.busy;
    ui["ask-submit"].textContent = t(ask.busy ? "askBusy" : "askSubmit");
    ui["ask-form"].setAttribute("aria-busy", ask.busy ? "true" : "false");
    ui["ask-error"].hidden = !ask.error;
    ui["ask-error"].textContent = say(ask.error);
    var result = ask.result;
    ui["ask-result"].hidden = !result;
    if (!result) return;
    var replies = ui["ask-replies"];
    replies.textContent = "";
    if (!result.replies.length) replies.appendChild(el("li", { class: "ask-none", text: t("askNoReplies") }));
    result.replies.forEach(function (reply) {
      var buttons = reply.buttons.length
        ? el("p", { class: "ask-buttons" }, [el("span", { class: "ask-buttons-label", text: t("askButtons") })].concat(
            reply.buttons.map(function (title) {
              return el("span", { class: "ask-button-chip", lang: textLang(title), text: title });
            })
          ))
        : null;
      replies.appendChild(el("li", { class: "ask-reply" }, [
        reply.text ? el("p", { class: "ask-reply-text", lang: textLang(reply.text), text: reply.text }) : null,
        buttons
      ]));
    });
    renderAskNlu(result);
    renderAskRecords(result.records);
  }

  function renderAskNlu(result) {
    var intent = result.intent;
    var intentNode = ui["ask-intent"];
    intentNode.textContent = "";
    if (intent) {
      var low = intent.confidence !== null && intent.confidence < LOW_CONFIDENCE;
      intentNode.appendChild(el("span", { class: "intent-badge" + (low ? " is-low" : ""), "data-intent": intent.name }, [
        el("span", { class: "intent-name", text: intent.name }),
        document.createTextNode(" "),
        el("span", { class: "intent-confidence", text: intent.confidence !== null ? intent.confidence.toFixed(2) : "?" }),
        low ? el("span", { class: "sr-only", text: " (" + t("lowConfidence") + ")" }) : null
      ]));
    } else intentNode.textContent = t("askNone");
    var entities = ui["ask-entities"];
    entities.textContent = "";
    if (!result.entities.length) entities.textContent = t("askNone");
    result.entities.forEach(function (e) {
      entities.appendChild(el("code", { class: "ask-entity", text: e.entity + "=" + e.value }));
      entities.appendChild(document.createTextNode(" "));
    });
  }

  function renderAskRecords(records) {
    var body = ui["ask-records-body"];
    body.textContent = "";
    ui["ask-records"].hidden = !records.length;
    ui["ask-no-records"].hidden = records.length > 0;
    records.forEach(function (r) {
      var web = /^https?:\/\/\S+$/i.test(r.source); // a link only to the web, never javascript: etc.
      var source = web
        ? el("a", { href: r.source, target: "_blank", rel: "noopener noreferrer", text: r.source })
        : el("span", { class: "rec-source-text", lang: textLang(r.source), text: r.source || "—" });
      body.appendChild(
        el("tr", { "data-kind": r.kind, "data-key": r.key, "data-confirmed": r.confirmed ? "true" : "false" }, [
          el("td", { class: "rec-kind", text: oneOf(r.kind, RECORD_KINDS) ? t("record_" + r.kind) : r.kind }),
          el("td", { class: "rec-name", lang: textLang(r.name), text: r.name }),
          el("td", { class: "rec-confirmed " + (r.confirmed ? "is-yes" : "is-no") }, [
            el("span", { class: "rec-mark", text: t(r.confirmed ? "confirmedYes" : "confirmedNo") }),
            r.note ? el("span", { class: "rec-note", lang: textLang(r.note), text: r.note }) : null
          ]),
          el("td", { class: "rec-source" }, [
            source,
            el("span", {
              class: "rec-updated",
              text: r.updated
                ? t("askUpdated", { who: r.updated.who, when: clock(parseTime(r.updated.when)) })
                : t("askFromSeed")
            })
          ])
        ])
      );
    });
  }

  // ---- pages: the queue, unanswered questions, the dashboard ----

  function setPage(page, how) {
    if (!oneOf(page, PAGES) || !state.me || (page !== "queue" && !canAnnotate())) return;
    var active = document.activeElement;
    var changed = page !== state.page;
    state.page = page;
    save("page", page);
    if (changed) closeCanned(false);
    renderPage();
    if (changed) loadPage();
    // a shortcut from inside the view that just went away: on to the new page's button
    var lost = !active || active === document.body || active.offsetParent === null;
    if (how === "shortcut" && lost) ui["nav-" + page].focus();
  }

  /* Fresh figures whenever a report page is opened (the queue keeps itself fresh). */
  function loadPage() {
    if (state.page === "unanswered") loadReport("unanswered");
    else if (state.page === "dashboard") loadReport("dashboard");
    else if (state.page === "facts") loadFacts();
  }

  function renderPage() {
    var signedIn = !!state.me && document.body.getAttribute("data-screen") === "console";
    var page = signedIn ? state.page : null;
    ui["app-nav"].hidden = !signedIn || !canAnnotate();
    ui["console-view"].hidden = page !== "queue";
    ui["unanswered-view"].hidden = page !== "unanswered";
    ui["dashboard-view"].hidden = page !== "dashboard";
    ui["facts-view"].hidden = page !== "facts";
    PAGES.forEach(function (name) {
      var button = ui["nav-" + name];
      if (name === page) button.setAttribute("aria-current", "page");
      else button.removeAttribute("aria-current");
    });
    document.body.setAttribute("data-page", page || "");
    var skip = ui["skip-link"];
    skip.setAttribute("href", page === "unanswered" ? "#unanswered-title" : page === "dashboard" ? "#dashboard-title" : page === "facts" ? "#facts-title" : "#conversation");
    skip.textContent = t(page === "queue" || !page ? "skipToConversation" : "skipToContent");
    renderNavCount();
    if (page === "unanswered") renderUnanswered();
    else if (page === "dashboard") renderDashboard();
    else if (page === "facts") renderFacts();
  }

  /* The waiting count on the Queue button, so that staff on a report page see visitors arrive. */
  function renderNavCount() {
    var waiting = state.me ? state.lists.waiting : null;
    var n = waiting ? waiting.length : 0;
    ui["nav-queue-count"].hidden = n === 0;
    ui["nav-queue-count"].textContent = n ? String(n) : "";
    ui["nav-queue-count-sr"].textContent = n ? t("navWaiting", { n: n }) : "";
  }

  // ---- reports: fetching ----

  function num(value) {
    return typeof value === "number" && isFinite(value) && value > 0 ? value : 0;
  }

  function list(value) {
    return Array.isArray(value) ? value : [];
  }

  function cleanUnanswered(data) {
    return {
      groups: list(data.groups).map(function (g) {
        g = g && typeof g === "object" ? g : {};
        var outcomes = g.outcomes && typeof g.outcomes === "object" ? g.outcomes : {};
        return {
          text: str(g.text),
          count: num(g.count),
          outcomes: UNANSWERED_OUTCOMES.map(function (o) {
            return { outcome: o, n: num(outcomes[o]) };
          }).filter(function (o) {
            return o.n > 0;
          }),
          latest: list(g.latest).map(function (l) {
            l = l && typeof l === "object" ? l : {};
            return {
              conversation_id: str(l.conversation_id),
              text: str(l.text),
              at: parseTime(l.at),
              outcome: str(l.outcome),
              intent: l.intent ? str(l.intent) : null
            };
          }).filter(function (l) {
            return l.conversation_id;
          })
        };
      }),
      daily: list(data.daily).map(function (d) {
        d = d && typeof d === "object" ? d : {};
        return { day: str(d.day), answered: num(d.answered), unanswered: num(d.unanswered), unhelpful: num(d.unhelpful) };
      }).filter(function (d) {
        return /^\d{4}-\d{2}-\d{2}$/.test(d.day);
      })
    };
  }

  function cleanDashboard(data) {
    var outcomes = data.outcomes && typeof data.outcomes === "object" ? data.outcomes : {};
    var wait = data.median_wait_s;
    return {
      per_hour: list(data.per_hour).map(function (h) {
        h = h && typeof h === "object" ? h : {};
        return { hour: parseTime(h.hour), messages: num(h.messages), conversations: num(h.conversations) };
      }).filter(function (h) {
        return h.hour !== null;
      }),
      outcomes: DASH_OUTCOMES.reduce(function (all, o) {
        all[o] = num(outcomes[o]);
        return all;
      }, {}),
      top_topics: list(data.top_topics).map(function (tp) {
        tp = tp && typeof tp === "object" ? tp : {};
        return { intent: str(tp.intent), count: num(tp.count) };
      }).filter(function (tp) {
        return tp.intent && tp.count > 0;
      }),
      median_wait_s: typeof wait === "number" && isFinite(wait) && wait >= 0 ? wait : null,
      handoffs: num(data.handoffs)
    };
  }

  function reportPath(name) {
    var report = state.reports[name];
    return name === "unanswered" ? "api/reports/unanswered?days=" + report.days : "api/reports/dashboard?hours=" + report.hours;
  }

  /* A failure of a report call; 404 here means no such report, not "no such conversation". */
  function reportProblem(r) {
    if (r.status === 404) return { key: "errServer", args: { status: 404 } };
    return failure(r);
  }

  function loadReport(name) {
    var report = state.reports[name];
    if (!state.me || !canAnnotate()) return;
    var seq = ++report.seq;
    report.loading = true;
    report.asked = Date.now();
    renderReport(name);
    api("GET", reportPath(name), undefined, { quiet: true }).then(function (r) {
      if (seq !== report.seq) return; // another period was chosen meanwhile, or a logout
      report.loading = false;
      if (r.ok) {
        report.data = name === "unanswered" ? cleanUnanswered(r.data) : cleanDashboard(r.data);
        report.error = null;
        report.at = Date.now();
      } else if (r.status !== 401) {
        report.error = reportProblem(r);
      }
      renderReport(name);
    });
  }

  function renderReport(name) {
    if (state.page !== name || !state.me) return;
    if (name === "unanswered") renderUnanswered();
    else renderDashboard();
  }

  /* Every 60 s while the dashboard is on screen; at once when the tab is seen again after that. */
  function refreshDashboardIfDue() {
    var report = state.reports.dashboard;
    if (!state.me || state.page !== "dashboard" || report.loading) return;
    if (document.visibilityState === "hidden" || ui["dashboard-view"].hidden) return;
    if (Date.now() - report.asked >= DASHBOARD_REFRESH_MS) loadReport("dashboard");
  }

  function renderReportHead(name, auto) {
    var report = state.reports[name];
    var status = ui[name + "-status"];
    if (report.loading && !report.data) status.textContent = t("loading");
    else status.textContent = report.at !== null ? t(auto ? "reportUpdatedAuto" : "reportUpdated", { time: clock(report.at) }) : "";
    ui[name + "-view"].setAttribute("aria-busy", report.loading ? "true" : "false");
    ui[name + "-error"].hidden = !report.error;
    ui[name + "-error-text"].textContent = report.error ? t("reportFailed", { why: say(report.error) }) : "";
  }

  // ---- reports: numbers, times and names ----

  function percent(n, total) {
    if (!total) return "0%";
    var p = (n * 100) / total;
    if (p > 0 && p < 1) return "<1%";
    return Math.round(p) + "%";
  }

  /* "2 min 30 s" / "2分30秒"; "—" when there is nothing to measure. */
  function waitText(seconds) {
    if (seconds === null) return "—";
    var s = Math.round(seconds);
    if (s < 60) return t("waitSeconds", { s: s });
    if (s < 3600) return t("waitMinutes", { m: Math.floor(s / 60), s: s % 60 });
    return t("waitHours", { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
  }

  function hourText(ms) {
    var d = new Date(ms);
    return pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function dateText(ms) {
    var d = new Date(ms);
    return pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  /* "2024-09-10" → "09-10" (the server's day in China, shown as it is). */
  function dayText(day) {
    return day.slice(5);
  }

  /* {label, raw}: a name staff know for the common intents, the intent itself otherwise. */
  function intentLabel(intent) {
    for (var i = 0; i < INTENT_NAMES.length; i++) {
      var name = INTENT_NAMES[i];
      if (intent === name[0] || (name[2] && intent.indexOf(name[0] + "_") === 0)) {
        return { label: t(name[1]), raw: intent, translated: true };
      }
    }
    return { label: intent, raw: intent, translated: false };
  }

  // ---- reports: charts (inline SVG, sized to the box they are drawn in) ----

  function svg(tag, attrs, children) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, String(value));
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(child);
    });
    return node;
  }

  function round1(x) {
    return Math.round(x * 10) / 10;
  }

  /* A y axis of whole numbers: 0 to max in about four steps of 1, 2 or 5 × 10^k. */
  function niceScale(max) {
    if (!(max > 0)) return { max: 4, step: 1 };
    var rough = max / 4;
    var power = Math.pow(10, Math.floor(Math.log(rough) / Math.LN10));
    var step = power;
    [1, 2, 5, 10].some(function (m) {
      step = m * power;
      return step >= rough;
    });
    step = Math.max(1, Math.round(step));
    return { max: Math.ceil(max / step) * step, step: step };
  }

  function chartWidth(box) {
    var width = box.clientWidth || (box.parentNode && box.parentNode.clientWidth) || 640;
    return Math.max(260, Math.floor(width));
  }

  /* Grid lines and their numbers; returns the y of a value. */
  function drawAxis(root, scale, box) {
    for (var v = 0; v <= scale.max; v += scale.step) {
      var y = round1(box.top + box.height - (v / scale.max) * box.height);
      root.appendChild(svg("line", { class: "chart-grid" + (v === 0 ? " is-base" : ""), x1: box.left, x2: box.left + box.width, y1: y, y2: y }));
      root.appendChild(svg("text", { class: "chart-axis", x: box.left - 6, y: y + 4, "text-anchor": "end", text: String(v) }));
    }
    return function (value) {
      return box.top + box.height - (value / scale.max) * box.height;
    };
  }

  function renderLegend(node, series) {
    node.textContent = "";
    series.forEach(function (s) {
      node.appendChild(el("li", { class: "legend-item", "data-series": s.id }, [
        el("span", { class: "swatch series-" + s.id + (s.line ? " is-line" : ""), "aria-hidden": "true" }),
        el("span", { text: s.label })
      ]));
    });
  }

  function srTable(caption, heads, rows) {
    return el("table", { class: "sr-only chart-table" }, [
      el("caption", { text: caption }),
      el("thead", {}, [el("tr", {}, heads.map(function (h) {
        return el("th", { scope: "col", text: h });
      }))]),
      el("tbody", {}, rows.map(function (row) {
        return el("tr", {}, row.map(function (cell, i) {
          return el(i === 0 ? "th" : "td", { scope: i === 0 ? "row" : null, text: String(cell) });
        }));
      }))
    ]);
  }

  /* Before the first figures arrive ("Loading…"), or nothing when they could not be loaded. */
  function chartPlaceholder(box, key) {
    box.textContent = "";
    if (key) box.appendChild(el("p", { class: "chart-placeholder", text: t(key) }));
  }

  function noDataNote(root, area) {
    root.appendChild(svg("text", { class: "chart-empty", x: round1(area.left + area.width / 2), y: round1(area.top + area.height / 2), "text-anchor": "middle", text: t("reportNoData") }));
  }

  /* Answered, unanswered and unhelpful side by side, one group per day. */
  function renderDailyChart(daily) {
    var box = ui["daily-chart"];
    renderLegend(ui["daily-legend"], DAILY_SERIES.map(function (s) {
      return { id: s, label: t("series_" + s) };
    }));
    if (!daily) return chartPlaceholder(box, state.reports.unanswered.error ? null : "loading");
    box.textContent = "";
    var width = chartWidth(box);
    var height = 220;
    var area = { left: 40, top: 10, width: width - 48, height: height - 10 - 30 };
    var max = 0;
    var totals = { answered: 0, unanswered: 0, unhelpful: 0 };
    daily.forEach(function (d) {
      DAILY_SERIES.forEach(function (s) {
        max = Math.max(max, d[s]);
        totals[s] += d[s];
      });
    });
    var period = t("days_" + state.reports.unanswered.days);
    var summary = t("dailySummary", { period: period, answered: totals.answered, unanswered: totals.unanswered, unhelpful: totals.unhelpful });
    var root = svg("svg", {
      class: "chart-svg daily-svg",
      width: width,
      height: height,
      viewBox: "0 0 " + width + " " + height,
      role: "img",
      "aria-label": summary,
      focusable: "false"
    });
    var y = drawAxis(root, niceScale(max), area);
    var n = Math.max(1, daily.length);
    var slot = area.width / n;
    var groupWidth = Math.min(slot * 0.8, 84);
    var barWidth = groupWidth / DAILY_SERIES.length;
    var every = Math.max(1, Math.ceil(LABEL_GAP_PX / slot));
    daily.forEach(function (d, i) {
      var left = area.left + i * slot + (slot - groupWidth) / 2;
      var group = svg("g", {
        class: "chart-day",
        "data-day": d.day,
        "data-answered": d.answered,
        "data-unanswered": d.unanswered,
        "data-unhelpful": d.unhelpful
      }, [svg("title", { text: t("dailyDay", { day: d.day, answered: d.answered, unanswered: d.unanswered, unhelpful: d.unhelpful }) })]);
      DAILY_SERIES.forEach(function (s, j) {
        var top = y(d[s]);
        group.appendChild(svg("rect", {
          class: "bar series-" + s,
          "data-value": d[s],
          x: round1(left + j * barWidth),
          y: round1(top),
          width: round1(Math.max(1, barWidth - 1)),
          height: round1(area.top + area.height - top)
        }));
      });
      if ((n - 1 - i) % every === 0) {
        // counted from the newest day, which always has its label
        group.appendChild(svg("text", { class: "chart-label", x: round1(area.left + (i + 0.5) * slot), y: height - 10, "text-anchor": "middle", text: dayText(d.day) }));
      }
      root.appendChild(group);
    });
    if (!max) noDataNote(root, area);
    box.appendChild(root);
    box.appendChild(srTable(t("dailyCaption"), [t("colDay")].concat(DAILY_SERIES.map(function (s) {
      return t("series_" + s);
    })), daily.map(function (d) {
      return [d.day, d.answered, d.unanswered, d.unhelpful];
    })));
  }

  /* Messages per hour as bars, conversations as a line; sparse local HH:00 labels, dates at midnight. */
  function renderHourChart(perHour) {
    var box = ui["per-hour-chart"];
    renderLegend(ui["per-hour-legend"], [
      { id: "messages", label: t("series_messages") },
      { id: "conversations", label: t("series_conversations"), line: true }
    ]);
    if (!perHour) return chartPlaceholder(box, state.reports.dashboard.error ? null : "loading");
    box.textContent = "";
    var width = chartWidth(box);
    var height = 240;
    var area = { left: 40, top: 12, width: width - 48, height: height - 12 - 44 };
    var max = 0;
    var total = 0;
    var peak = null;
    perHour.forEach(function (h) {
      max = Math.max(max, h.messages, h.conversations);
      total += h.messages;
      if (h.messages > 0 && (!peak || h.messages > peak.messages)) peak = h;
    });
    var summary = t("perHourSummary", { period: t("hours_" + state.reports.dashboard.hours), messages: total }) +
      (peak ? " " + t("perHourPeak", { time: clock(peak.hour), messages: peak.messages, conversations: peak.conversations }) : "");
    var root = svg("svg", {
      class: "chart-svg hour-svg",
      width: width,
      height: height,
      viewBox: "0 0 " + width + " " + height,
      role: "img",
      "aria-label": summary,
      focusable: "false"
    });
    var y = drawAxis(root, niceScale(max), area);
    var n = Math.max(1, perHour.length);
    var slot = area.width / n;
    var barWidth = Math.max(1, slot * 0.72);
    var every = [1, 2, 3, 4, 6, 12, 24].filter(function (k) {
      return k * slot >= LABEL_GAP_PX;
    })[0] || 24;
    var points = [];
    var base = area.top + area.height;
    perHour.forEach(function (h, i) {
      var centre = area.left + (i + 0.5) * slot;
      var top = y(h.messages);
      var local = new Date(h.hour);
      var group = svg("g", {
        class: "chart-hour",
        "data-hour": new Date(h.hour).toISOString(),
        "data-messages": h.messages,
        "data-conversations": h.conversations
      }, [
        svg("title", { text: t("perHourHour", { time: dateText(h.hour) + " " + hourText(h.hour), messages: h.messages, conversations: h.conversations }) }),
        svg("rect", {
          class: "bar series-messages",
          "data-value": h.messages,
          x: round1(centre - barWidth / 2),
          y: round1(top),
          width: round1(barWidth),
          height: round1(base - top)
        })
      ]);
      if (local.getHours() === 0 && i > 0) {
        group.appendChild(svg("line", { class: "chart-midnight", x1: round1(centre - slot / 2), x2: round1(centre - slot / 2), y1: area.top, y2: base + 30 }));
        group.appendChild(svg("text", { class: "chart-label is-date", x: round1(centre - slot / 2 + 4), y: height - 4, text: dateText(h.hour) }));
      }
      if (local.getHours() % every === 0) {
        group.appendChild(svg("text", { class: "chart-label", x: round1(centre), y: base + 16, "text-anchor": "middle", text: hourText(h.hour) }));
      }
      root.appendChild(group);
      points.push(round1(centre) + "," + round1(y(h.conversations)));
    });
    root.appendChild(svg("polyline", { class: "line series-conversations", points: points.join(" ") }));
    if (slot >= 6) {
      perHour.forEach(function (h, i) {
        root.appendChild(svg("circle", { class: "dot series-conversations", cx: round1(area.left + (i + 0.5) * slot), cy: round1(y(h.conversations)), r: slot >= 14 ? 3 : 2 }));
      });
    }
    if (!max) noDataNote(root, area);
    box.appendChild(root);
    box.appendChild(srTable(t("perHourCaption"), [t("colHour"), t("series_messages"), t("series_conversations")], perHour.filter(function (h) {
      return h.messages > 0;
    }).map(function (h) {
      return [dateText(h.hour) + " " + hourText(h.hour), h.messages, h.conversations];
    })));
  }

  // ---- reports: the unanswered questions ----

  function renderUnanswered() {
    var report = state.reports.unanswered;
    ui["unanswered-days"].value = String(report.days);
    var csv = ui["unanswered-csv"];
    csv.setAttribute("href", "api/reports/unanswered.csv?days=" + report.days);
    csv.setAttribute("aria-label", t("exportCsvLabel", { n: report.days }));
    renderReportHead("unanswered", false);
    var data = report.data;
    renderDailyChart(data ? data.daily : null);
    renderGroups(data ? data.groups : null);
  }

  function renderGroups(groups) {
    var listNode = ui["unanswered-groups"];
    var active = document.activeElement;
    var focused = active && listNode.contains(active) ? active.getAttribute("data-example") : null;
    listNode.textContent = "";
    var empty = ui["unanswered-empty"];
    empty.hidden = !!(groups && groups.length);
    empty.textContent = groups ? t("groupsEmpty") : state.reports.unanswered.error ? "" : t("loading");
    if (!groups || !groups.length) {
      empty.hidden = !empty.textContent;
      return;
    }
    groups.forEach(function (g, gi) {
      listNode.appendChild(el("li", { class: "ug-item", "data-count": g.count }, [
        el("div", { class: "ug-main" }, [
          el("div", { class: "ug-head" }, [
            el("p", { class: "ug-text", lang: textLang(g.text), text: g.text }),
            el("span", { class: "ug-count", text: t("groupCount", { n: g.count }) })
          ]),
          el("ul", { class: "ug-outcomes", "aria-label": t("groupOutcomes") }, g.outcomes.map(function (o) {
            return el("li", { class: "outcome-chip outcome-" + o.outcome, "data-outcome": o.outcome, "data-count": o.n }, [
              el("span", { text: t("uo_" + o.outcome) }),
              el("span", { class: "chip-count", text: String(o.n) })
            ]);
          }))
        ]),
        el("ul", { class: "ug-examples", "aria-label": t("groupExamples") }, g.latest.map(function (ex, ei) {
          var key = gi + ":" + ei;
          return el("li", { class: "ug-example-row" }, [
            ex.at !== null ? el("time", { class: "ug-time", datetime: new Date(ex.at).toISOString(), text: clock(ex.at) }) : null,
            el("button", {
              type: "button",
              class: "link-button ug-example",
              "data-conversation": ex.conversation_id,
              "data-example": key,
              "aria-haspopup": "dialog",
              "aria-label": t("exampleLink", { text: ex.text || ex.conversation_id }),
              lang: ex.text ? textLang(ex.text) : null,
              text: ex.text || ex.conversation_id
            }),
            ex.outcome && oneOf(ex.outcome, UNANSWERED_OUTCOMES)
              ? el("span", { class: "ug-example-outcome outcome-" + ex.outcome, text: t("uo_" + ex.outcome) })
              : null
          ]);
        }))
      ]));
    });
    if (focused) {
      var again = listNode.querySelector('button[data-example="' + focused + '"]'); // our own "n:m"
      if (again) again.focus();
    }
  }

  function findExample(button) {
    var key = (button.getAttribute("data-example") || "").split(":");
    var data = state.reports.unanswered.data;
    var group = data && data.groups[Number(key[0])];
    return group ? group.latest[Number(key[1])] || null : null;
  }

  // ---- reports: the read-only transcript of a conversation ----

  function openReportTranscript(conversationId, example) {
    if (!conversationId) return;
    var rc = { id: conversationId, example: example, transcript: null, error: null };
    state.reportConv = rc;
    renderReportTranscript();
    showDialog(ui["report-transcript-dialog"], ui["report-transcript-back"]);
    api("GET", "api/conversations/" + encodeURIComponent(conversationId), undefined, { quiet: true }).then(function (r) {
      if (rc !== state.reportConv) return; // closed, or another one opened
      if (r.ok) rc.transcript = list(r.data.transcript).map(cleanMessage).filter(Boolean);
      else if (r.status === 404) rc.error = { key: "errConversationGone" };
      else if (r.status !== 401) rc.error = r.network ? { key: r.timeout ? "errTimeout" : "errNetwork" } : failure(r);
      renderReportTranscript();
      var mark = ui["report-transcript"].querySelector(".is-example");
      if (mark && mark.scrollIntoView) mark.scrollIntoView({ block: "center" });
    });
  }

  /* The example's own message: same text, within a second or two of the report's time. */
  function isExample(m, example) {
    if (!example || m.kind !== "visitor" || m.text !== example.text) return false;
    return example.at === null || m.at === null || Math.abs(m.at - example.at) < 2000;
  }

  function renderReportTranscript() {
    var rc = state.reportConv;
    var listNode = ui["report-transcript"];
    listNode.textContent = "";
    ui["report-transcript-id"].textContent = rc ? t("transcriptId", { id: rc.id }) : "";
    if (!rc) return;
    if (rc.error) {
      listNode.appendChild(el("li", { class: "msg-placeholder is-error", text: say(rc.error) }));
      return;
    }
    if (!rc.transcript) {
      listNode.appendChild(el("li", { class: "msg-placeholder", text: t("loading") }));
      return;
    }
    if (!rc.transcript.length) listNode.appendChild(el("li", { class: "msg-placeholder", text: t("emptyTranscript") }));
    var marked = false;
    rc.transcript.forEach(function (m) {
      var item = messageItem(m);
      if (!marked && isExample(m, rc.example)) {
        marked = true;
        item.classList.add("is-example");
        item.setAttribute("aria-current", "true");
      }
      listNode.appendChild(item);
    });
  }

  // ---- reports: the dashboard ----

  function renderDashboard() {
    var report = state.reports.dashboard;
    ui["dashboard-hours"].value = String(report.hours);
    renderReportHead("dashboard", true);
    var data = report.data;
    renderWait(data);
    renderOutcomes(data ? data.outcomes : null);
    renderHourChart(data ? data.per_hour : null);
    renderTopics(data ? data.top_topics : null);
  }

  function renderWait(data) {
    ui["wait-value"].textContent = data ? waitText(data.median_wait_s) : "—";
    ui["wait-value"].classList.toggle("is-none", !data || data.median_wait_s === null);
    ui["wait-detail"].textContent = !data ? "" : data.median_wait_s === null ? t("waitNone") : t("waitHandoffs", { n: data.handoffs });
  }

  function renderOutcomes(outcomes) {
    var bar = ui["outcome-bar"];
    var legend = ui["outcome-legend"];
    bar.textContent = "";
    legend.textContent = "";
    var total = 0;
    if (outcomes) DASH_OUTCOMES.forEach(function (o) {
      total += outcomes[o];
    });
    ui["outcome-total"].textContent = outcomes ? t("outcomesTotal", { n: total }) : "";
    bar.classList.toggle("is-empty", !total);
    if ((!outcomes && !state.reports.dashboard.error) || (outcomes && !total)) {
      var placeholder = t(outcomes ? "reportNoData" : "loading");
      bar.setAttribute("aria-label", placeholder);
      bar.appendChild(el("span", { class: "stack-empty", text: placeholder }));
    }
    var parts = [];
    DASH_OUTCOMES.forEach(function (o) {
      var n = outcomes ? outcomes[o] : 0;
      var pct = percent(n, total);
      var name = t("uo_" + o);
      if (n > 0) {
        var segment = el("span", { class: "stack-seg series-" + o, "data-outcome": o, "data-count": n, title: t("outcomeShare", { name: name, pct: pct, n: n }) });
        segment.style.width = (n * 100) / total + "%"; // CSSOM: allowed by the page's CSP
        if (n / total >= 0.08) segment.textContent = pct;
        bar.appendChild(segment);
        parts.push(t("outcomeShare", { name: name, pct: pct, n: n }));
      }
      if (outcomes) {
        legend.appendChild(el("li", { class: "legend-item", "data-outcome": o, "data-count": n }, [
          el("span", { class: "swatch series-" + o, "aria-hidden": "true" }),
          el("span", { class: "legend-name", text: name }),
          el("span", { class: "legend-value", text: t("outcomeCount", { n: n, pct: pct }) })
        ]));
      }
    });
    if (total) bar.setAttribute("aria-label", parts.join(state.lang === "zh" ? "；" : "; "));
  }

  function renderTopics(topics) {
    var listNode = ui["topic-list"];
    listNode.textContent = "";
    var empty = ui["topics-empty"];
    empty.hidden = !!(topics && topics.length) || (!topics && !!state.reports.dashboard.error);
    empty.textContent = t(topics ? "topicsEmpty" : "loading");
    if (!topics) return;
    var max = topics.reduce(function (m, tp) {
      return Math.max(m, tp.count);
    }, 0);
    topics.forEach(function (tp) {
      var name = intentLabel(tp.intent);
      var fill = el("span", { class: "topic-bar" });
      fill.style.width = max ? (tp.count * 100) / max + "%" : "0";
      listNode.appendChild(el("li", { class: "topic", "data-intent": tp.intent, "data-count": tp.count }, [
        el("span", { class: "topic-name" }, [
          el("span", { class: "topic-label", text: name.label }),
          name.translated ? el("code", { class: "topic-intent", text: name.raw }) : null
        ]),
        el("span", { class: "topic-track", "aria-hidden": "true" }, [fill]),
        el("span", { class: "topic-count", text: t("topicCount", { n: tp.count }) })
      ]));
    });
  }

  // ---- reports: events ----

  var resizeTimer = null;

  function bindReports() {
    PAGES.forEach(function (page) {
      ui["nav-" + page].addEventListener("click", function () {
        setPage(page, "click");
      });
    });
    ui["unanswered-days"].addEventListener("change", function () {
      var days = oneOf(Number(ui["unanswered-days"].value), DAY_CHOICES);
      if (!days) return;
      state.reports.unanswered.days = days;
      state.reports.unanswered.data = null; // another period: the old figures would mislead
      save("days", days);
      loadReport("unanswered");
    });
    ui["dashboard-hours"].addEventListener("change", function () {
      var hours = oneOf(Number(ui["dashboard-hours"].value), HOUR_CHOICES);
      if (!hours) return;
      state.reports.dashboard.hours = hours;
      state.reports.dashboard.data = null;
      save("hours", hours);
      loadReport("dashboard");
    });
    ui["unanswered-retry"].addEventListener("click", function () {
      loadReport("unanswered");
    });
    ui["dashboard-retry"].addEventListener("click", function () {
      loadReport("dashboard");
    });
    ui["unanswered-groups"].addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest(".ug-example") : null;
      if (button) openReportTranscript(button.getAttribute("data-conversation"), findExample(button));
    });
    ui["report-transcript-back"].addEventListener("click", function () {
      closeDialog(ui["report-transcript-dialog"]);
    });
    ui["report-transcript-dialog"].addEventListener("close", function () {
      state.reportConv = null; // a late answer is for nobody
      renderReportTranscript();
    });
    window.addEventListener("resize", function () {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(function () {
        if (state.me && (state.page === "unanswered" || state.page === "dashboard")) renderReport(state.page); // the charts fit their box
      }, REFRESH_DEBOUNCE_MS);
    });
    document.addEventListener("visibilitychange", refreshDashboardIfDue);
    setInterval(refreshDashboardIfDue, REPORT_CHECK_MS);
  }

  // ---- facts: the records the bot answers from, edited live ----

  function resetFacts() {
    var old = state.facts;
    state.facts = {
      kind: oneOf(load("factsKind", null), RECORD_KINDS) || "venue",
      filter: old ? old.filter : "",
      records: null, // the list of the kind, as api/facts gives it
      loading: false,
      error: null, // {key, args}: the list could not be loaded
      seq: (old ? old.seq : 0) + 1, // an answer on its way for an older question is dropped
      key: null, // the selected record's key
      record: null,
      history: [],
      recordLoading: false,
      recordError: null,
      draft: {}, // field name -> the value in the form (API shape)
      problems: [], // [{field, en, zh}] from a 422
      formError: null, // {key, args} or {text: {en, zh}}
      notice: null, // {key, args}
      review: [], // [{field, en, zh}] after a save
      conflict: false,
      saving: false,
      aliasBusy: false,
      stamp: "" // what the form was last built from
    };
  }

  function canEditFacts() {
    return state.permissions.indexOf("edit_facts") >= 0;
  }

  function cleanField(f) {
    f = f && typeof f === "object" ? f : {};
    return {
      name: str(f.name),
      value: f.value === undefined ? null : f.value,
      kind: oneOf(f.kind, ["key", "name", "text", "bool", "date", "time", "choice", "source"]) || "text",
      required: f.required === true,
      choices: list(f.choices).map(str),
      lang: oneOf(f.lang, ["zh", "en"]),
      twin: f.twin ? str(f.twin) : null
    };
  }

  function cleanProblems(value) {
    return list(value).map(function (p) {
      p = p && typeof p === "object" ? p : {};
      return { field: p.field ? str(p.field) : null, en: str(p.en), zh: str(p.zh) };
    });
  }

  function cleanRecord(r) {
    if (!r || typeof r !== "object" || !r.key) return null;
    var last = r.last_updated && typeof r.last_updated === "object" ? r.last_updated : null;
    return {
      kind: str(r.kind),
      key: str(r.key),
      name_zh: str(r.name_zh),
      name_en: str(r.name_en),
      fields: list(r.fields).map(cleanField).filter(function (f) {
        return f.name;
      }),
      aliases: Array.isArray(r.aliases) ? r.aliases.map(str) : null,
      revision: typeof r.revision === "number" ? r.revision : 0,
      last_updated: last ? { when: parseTime(last.when), who: str(last.who) } : null,
      review: cleanProblems(r.review)
    };
  }

  function cleanChange(c) {
    c = c && typeof c === "object" ? c : {};
    return {
      id: typeof c.id === "number" ? c.id : 0,
      when: parseTime(c.when),
      editor: str(c.editor),
      key: str(c.key),
      field: str(c.field),
      old: c.old === undefined ? null : c.old,
      new: c["new"] === undefined ? null : c["new"]
    };
  }

  function problemText(p) {
    return state.lang === "zh" ? p.zh || p.en : p.en || p.zh;
  }

  function recordName(r) {
    var name = state.lang === "zh" ? r.name_zh || r.name_en : r.name_en || r.name_zh;
    return name || r.key;
  }

  /* "zhao · 09-10 14:03" (local time). */
  function stampText(last) {
    if (!last) return "";
    var d = last.when === null ? null : new Date(last.when);
    var when = d ? pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes()) : "";
    return last.who + (when ? " · " + when : "");
  }

  /* true / false when the record has a confirmed flag, else null. */
  function confirmedOf(r) {
    var found = null;
    r.fields.forEach(function (f) {
      if (found === null && (f.name === "confirmed" || f.name === "date_confirmed")) found = f.value === true;
    });
    return found;
  }

  function valueText(value) {
    if (value === null || value === undefined || value === "") return t("factNone");
    if (Array.isArray(value)) return value.map(str).join(" ");
    if (value === true) return "✓";
    if (value === false) return "✗";
    return str(value);
  }

  function loadFacts() {
    var facts = state.facts;
    if (!state.me || !canAnnotate()) return;
    var seq = ++facts.seq;
    var kind = facts.kind;
    facts.loading = true;
    renderFacts();
    api("GET", "api/facts?kind=" + encodeURIComponent(kind), undefined, { quiet: true }).then(function (r) {
      if (seq !== facts.seq || state.facts !== facts) return;
      facts.loading = false;
      if (r.ok) {
        facts.records = list(r.data.records).map(cleanRecord).filter(Boolean);
        facts.error = null;
      } else if (r.status !== 401) {
        facts.error = reportProblem(r);
      }
      renderFacts();
    });
    if (facts.key) loadFact(facts.key, false);
  }

  /* One record with its history; `fresh`: forget what the form held (a new record, a reload). */
  function loadFact(key, fresh) {
    var facts = state.facts;
    var kind = facts.kind;
    if (fresh) {
      facts.key = key;
      facts.record = null;
      facts.history = [];
      facts.draft = {};
      facts.problems = [];
      facts.formError = null;
      facts.notice = null;
      facts.review = [];
      facts.conflict = false;
    }
    facts.recordLoading = true;
    facts.recordError = null;
    var seq = (facts.recordSeq = (facts.recordSeq || 0) + 1);
    renderFacts();
    return api("GET", "api/facts/" + encodeURIComponent(kind) + "/" + encodeURIComponent(key), undefined, { quiet: true }).then(function (r) {
      if (state.facts !== facts || facts.kind !== kind || facts.key !== key || seq !== facts.recordSeq) return;
      facts.recordLoading = false;
      if (r.ok && cleanRecord(r.data.record)) {
        var record = cleanRecord(r.data.record);
        if (fresh || !facts.record) facts.draft = draftOf(record);
        else rebaseDraft(facts.record, record);
        facts.record = record;
        facts.history = list(r.data.history).map(cleanChange);
        facts.history.sort(function (a, b) {
          return b.id - a.id;
        });
        replaceListed(record);
      } else if (r.status !== 401) {
        facts.recordError = failure(r);
      }
      renderFacts();
    });
  }

  function draftOf(record) {
    var draft = {};
    record.fields.forEach(function (f) {
      draft[f.name] = f.value;
    });
    return draft;
  }

  /* A reload keeps what was typed, but a field left alone takes the server's newer value
     (else Save would quietly put a colleague's change back). */
  function rebaseDraft(before, after) {
    var draft = state.facts.draft;
    after.fields.forEach(function (f) {
      var old = null;
      before.fields.forEach(function (b) {
        if (b.name === f.name) old = b;
      });
      if (!old || !(f.name in draft) || sameValue(f, draft[f.name], old.value)) draft[f.name] = f.value;
    });
  }

  function replaceListed(record) {
    var records = state.facts.records;
    if (!records) return;
    for (var i = 0; i < records.length; i++) {
      if (records[i].key === record.key) records[i] = record;
    }
  }

  /* A value as the server compares it: "" and [] are "no value". */
  function normal(field, value) {
    if (value === undefined || value === null) return null;
    if (field.kind === "bool") return value === true;
    if (field.kind === "source") {
      var items = (Array.isArray(value) ? value : str(value).split(/\s+/)).map(function (s) {
        return str(s).trim();
      }).filter(Boolean);
      return items.length ? items : null;
    }
    var text = str(value);
    return text.trim() === "" ? null : text;
  }

  function sameValue(field, a, b) {
    return JSON.stringify(normal(field, a)) === JSON.stringify(normal(field, b));
  }

  function changedFields() {
    var facts = state.facts;
    var changes = {};
    facts.record.fields.forEach(function (f) {
      if (f.kind === "key" || !(f.name in facts.draft)) return;
      if (!sameValue(f, f.value, facts.draft[f.name])) changes[f.name] = normal(f, facts.draft[f.name]);
    });
    return changes;
  }

  function saveFact(event) {
    if (event) event.preventDefault();
    var facts = state.facts;
    var record = facts.record;
    if (!record || facts.saving || !canEditFacts()) return;
    var changes = changedFields();
    facts.notice = null;
    facts.formError = null;
    facts.review = [];
    if (!Object.keys(changes).length) {
      facts.notice = { key: "factNoChanges" };
      renderFacts();
      return;
    }
    facts.saving = true;
    facts.problems = [];
    renderFacts();
    var path = "api/facts/" + encodeURIComponent(record.kind) + "/" + encodeURIComponent(record.key);
    api("POST", path, { changes: changes, revision: record.revision }).then(function (r) {
      if (state.facts !== facts || facts.record !== record) return;
      facts.saving = false;
      var saved = r.ok ? cleanRecord(r.data.record) : null;
      if (saved) {
        facts.record = saved;
        facts.draft = draftOf(saved);
        facts.notice = { key: "factSaved" };
        facts.review = saved.review;
        replaceListed(saved);
        announce(t("factSaved"));
        renderFacts();
        loadFact(saved.key, false); // the change history
        return;
      }
      if (r.status === 422) {
        facts.problems = cleanProblems(r.data.problems);
        facts.formError = { key: "factInvalid" };
      } else if (r.status === 409) {
        facts.conflict = true;
      } else if (r.status !== 401) {
        facts.formError = r.status === 404 ? { key: "errServer", args: { status: 404 } } : failure(r);
      }
      renderFacts();
      focusFirstProblem();
    });
  }

  function focusFirstProblem() {
    var facts = state.facts;
    var target = null;
    facts.problems.some(function (p) {
      target = p.field ? document.getElementById("fact-field-" + p.field) : null;
      return !!target;
    });
    if (target) target.focus();
    else if (facts.conflict) ui["fact-reload"].focus();
  }

  function aliasAction(verb, text, lang) {
    var facts = state.facts;
    var record = facts.record;
    if (!record || facts.aliasBusy || !canEditFacts()) return;
    var body = { text: text, revision: record.revision };
    if (verb === "add") body.lang = lang;
    facts.aliasBusy = true;
    facts.notice = null;
    facts.formError = null;
    renderFacts();
    var path = "api/facts/" + encodeURIComponent(record.kind) + "/" + encodeURIComponent(record.key) + "/aliases/" + verb;
    api("POST", path, body).then(function (r) {
      if (state.facts !== facts || facts.record !== record) return;
      facts.aliasBusy = false;
      var saved = r.ok ? cleanRecord(r.data.record) : null;
      if (saved) {
        facts.record = saved; // the fields are as they were: the form keeps what was typed
        replaceListed(saved);
        facts.notice = { key: verb === "add" ? "factAliasAdded" : "factAliasRemoved", args: { alias: text } };
        if (verb === "add") ui["fact-alias-text"].value = "";
        renderFacts();
        loadFact(saved.key, false);
        return;
      }
      if (r.status === 422) facts.formError = { problems: cleanProblems(r.data.problems) };
      else if (r.status === 409) facts.conflict = true;
      else if (r.status !== 401) facts.formError = failure(r);
      renderFacts();
    });
  }

  function addAlias(event) {
    event.preventDefault();
    var text = ui["fact-alias-text"].value.trim();
    if (!text) {
      ui["fact-alias-text"].focus();
      return;
    }
    aliasAction("add", text, oneOf(ui["fact-alias-lang"].value, ["zh", "en"]) || state.lang);
  }

  /* The form's controls write what is typed into the draft (so a re-render keeps it). */
  function onFactInput(event) {
    var node = event.target;
    var name = node && node.getAttribute ? node.getAttribute("data-field") : null;
    if (!name || !state.facts.record) return;
    var kind = node.getAttribute("data-kind");
    var value;
    if (kind === "bool") value = node.checked;
    else if (kind === "source") value = node.value.split(/\r?\n/).map(function (s) {
      return s.trim();
    }).filter(Boolean);
    else value = node.value;
    state.facts.draft[name] = value;
  }

  // ---- facts: drawing ----

  function renderFacts() {
    var facts = state.facts;
    if (!facts || !state.me) return;
    ui["facts-kind"].value = facts.kind;
    if (ui["facts-filter"].value !== facts.filter) ui["facts-filter"].value = facts.filter;
    ui["facts-filter"].setAttribute("placeholder", t("factsFilter"));
    ui["facts-error"].hidden = !facts.error;
    ui["facts-error-text"].textContent = facts.error ? t("factsLoadFailed", { why: say(facts.error) }) : "";
    renderFactList();
    renderFact();
  }

  function matchesFilter(r, words) {
    if (!words) return true;
    var hay = [r.key, r.name_zh, r.name_en].concat(r.aliases || []).join(" ").toLowerCase();
    return words.split(/\s+/).every(function (w) {
      return hay.indexOf(w) >= 0;
    });
  }

  function renderFactList() {
    var facts = state.facts;
    var listNode = ui["facts-list"];
    listNode.textContent = "";
    var words = facts.filter.trim().toLowerCase();
    var shown = (facts.records || []).filter(function (r) {
      return matchesFilter(r, words);
    });
    ui["facts-status"].textContent = facts.loading && !facts.records ? t("loading") : facts.records ? t("factsCount", { n: shown.length }) : "";
    ui["facts-empty"].hidden = !facts.records || shown.length > 0;
    ui["facts-empty"].textContent = t("factsEmpty");
    shown.forEach(function (r) {
      var confirmed = confirmedOf(r);
      var name = recordName(r);
      var selected = r.key === facts.key;
      listNode.appendChild(el("li", {}, [
        el("button", { class: "fact-item" + (selected ? " is-selected" : ""), type: "button", "data-key": r.key, "aria-current": selected ? "true" : null }, [
          el("span", { class: "fact-item-name", lang: textLang(name), text: name }),
          el("code", { class: "fact-item-key", text: r.key }),
          confirmed === null ? null : el("span", { class: "fact-item-confirmed " + (confirmed ? "is-yes" : "is-no"), "data-confirmed": String(confirmed), text: t(confirmed ? "confirmedYes" : "confirmedNo") }),
          el("span", { class: "fact-item-updated", text: r.last_updated ? stampText(r.last_updated) : "" })
        ])
      ]));
    });
  }

  function renderFact() {
    var facts = state.facts;
    var record = facts.record;
    var editable = canEditFacts();
    ui["fact-placeholder"].hidden = !!facts.key;
    ui["fact-placeholder"].textContent = t("factsPick");
    ui["fact-body"].hidden = !facts.key;
    if (!facts.key) return;
    ui["fact-title"].textContent = record ? recordName(record) : facts.recordLoading ? t("factLoading") : facts.key;
    ui["fact-title"].setAttribute("lang", record ? textLang(recordName(record)) : "en");
    var meta = ui["fact-meta"];
    meta.textContent = "";
    if (record) {
      meta.appendChild(el("span", { class: "fact-meta-key", text: t("factKey", { key: record.key }) }));
      meta.appendChild(el("span", {
        id: "fact-last-updated",
        class: "fact-last-updated",
        "data-who": record.last_updated ? record.last_updated.who : "",
        text: record.last_updated ? t("factUpdated", { who: record.last_updated.who, when: stampText(record.last_updated).replace(/^.*? · /, "") }) : t("factNeverUpdated")
      }));
    }
    ui["fact-readonly"].hidden = !record || editable;
    ui["fact-conflict"].hidden = !facts.conflict;
    var formError = facts.recordError || facts.formError;
    var generalProblems = facts.problems.filter(function (p) {
      return !p.field || !(record && record.fields.some(function (f) {
        return f.name === p.field;
      }));
    });
    var errorText = formError ? (formError.problems ? formError.problems.map(problemText).join(" ") : say(formError)) : "";
    if (generalProblems.length) errorText = (errorText ? errorText + " " : "") + generalProblems.map(problemText).join(" ");
    ui["fact-form-error"].hidden = !errorText;
    ui["fact-form-error"].textContent = errorText;
    ui["fact-notice"].hidden = !facts.notice;
    ui["fact-notice"].textContent = say(facts.notice);
    ui["fact-review"].hidden = !facts.review.length;
    ui["fact-review"].textContent = facts.review.length ? t("factReview", {
      items: facts.review.map(function (p) {
        return problemText(p); // the message names its fields
      }).join(state.lang === "zh" ? "；" : "; ")
    }) : "";
    ui["fact-form"].hidden = !record;
    ui["fact-save"].hidden = !editable;
    ui["fact-save"].disabled = facts.saving || facts.conflict;
    ui["fact-save"].textContent = t(facts.saving ? "factSaving" : "factSave");
    var stamp = [state.lang, facts.kind, facts.key, record ? record.revision : "-", editable, JSON.stringify(facts.problems), facts.recordSeq, facts.saving].join("|");
    if (record && stamp !== facts.stamp) {
      facts.stamp = stamp;
      renderFactFields(record, editable);
    }
    renderAliases(record, editable);
    renderHistory();
  }

  function fieldLabel(f) {
    var base = f.lang ? f.name.slice(0, -3) : f.name;
    return base.replace(/_/g, " ");
  }

  function fieldControl(f, editable, problems) {
    var id = "fact-field-" + f.name;
    var value = f.name in state.facts.draft ? state.facts.draft[f.name] : f.value;
    var attrs = { id: id, name: f.name, "data-field": f.name, "data-kind": f.kind, disabled: !editable || f.kind === "key" };
    if (f.lang) attrs.lang = f.lang === "zh" ? "zh-CN" : "en";
    if (problems.length) {
      attrs["aria-invalid"] = "true";
      attrs["aria-describedby"] = id + "-error";
    }
    var control;
    if (f.kind === "bool") {
      attrs.type = "checkbox";
      control = el("input", attrs);
      control.checked = value === true;
    } else if (f.kind === "choice") {
      control = el("select", attrs, [f.required ? null : el("option", { value: "", text: t("factNone") })].concat(f.choices.map(function (c) {
        return el("option", { value: c, text: c });
      })));
      control.value = value === null ? "" : str(value);
    } else if (f.kind === "source") {
      attrs.rows = 2;
      attrs.placeholder = t("factSourceHint");
      attrs.spellcheck = "false";
      control = el("textarea", attrs);
      control.value = Array.isArray(value) ? value.join("\n") : str(value);
    } else if (f.kind === "text" && (/note|desc|summary|detail|answer|text|body/.test(f.name) || str(value).length > 60)) {
      attrs.rows = 3;
      control = el("textarea", attrs);
      control.value = str(value);
    } else {
      attrs.type = f.kind === "date" ? "date" : f.kind === "time" ? "time" : "text";
      if (f.kind === "key") attrs.readonly = true;
      control = el("input", attrs);
      control.value = str(value);
    }
    return control;
  }

  function fieldBlock(f, editable) {
    var problems = state.facts.problems.filter(function (p) {
      return p.field === f.name;
    });
    var control = fieldControl(f, editable, problems);
    var label = el("label", { for: control.id }, [
      el("span", { class: "fact-label-name", text: fieldLabel(f) }),
      f.lang ? el("span", { class: "fact-label-lang", text: t(f.lang === "zh" ? "factLangZh" : "factLangEn") }) : null,
      f.required ? el("span", { class: "fact-label-required", text: t("factRequired") }) : null
    ]);
    var bool = f.kind === "bool";
    return el("div", { class: "fact-field" + (bool ? " is-bool" : "") + (problems.length ? " has-problem" : ""), "data-field": f.name }, [
      bool ? control : label,
      bool ? label : control,
      problems.length ? el("p", { id: control.id + "-error", class: "field-problem", "data-field": f.name, text: problems.map(problemText).join(" ") }) : null
    ]);
  }

  function renderFactFields(record, editable) {
    var box = ui["fact-fields"];
    var active = document.activeElement;
    var focusName = active && box.contains(active) ? active.getAttribute("data-field") : null;
    box.textContent = "";
    var byName = {};
    record.fields.forEach(function (f) {
      byName[f.name] = f;
    });
    if (!byName.key) {
      // the key names the record everywhere (links, logs): shown, never edited
      var keyInput = el("input", { id: "fact-field-key", type: "text", readonly: true, "aria-readonly": "true", spellcheck: "false" });
      keyInput.value = record.key;
      box.appendChild(el("div", { class: "fact-field fact-key" }, [
        el("label", { for: "fact-field-key" }, [el("span", { class: "fact-label-name", text: "key" })]),
        keyInput
      ]));
    }
    var placed = {};
    record.fields.forEach(function (f) {
      if (placed[f.name]) return;
      var twin = f.twin && byName[f.twin] && !placed[f.twin] ? byName[f.twin] : null;
      placed[f.name] = true;
      if (twin) {
        placed[twin.name] = true;
        var pair = f.lang === "zh" ? [f, twin] : [twin, f];
        box.appendChild(el("div", { class: "fact-pair" }, [fieldBlock(pair[0], editable), fieldBlock(pair[1], editable)]));
      } else {
        box.appendChild(fieldBlock(f, editable));
      }
    });
    if (focusName) {
      var again = document.getElementById("fact-field-" + focusName);
      if (again) again.focus();
    }
  }

  function renderAliases(record, editable) {
    var section = ui["fact-aliases"];
    section.hidden = !record || record.aliases === null;
    if (section.hidden) return;
    var listNode = ui["fact-alias-list"];
    listNode.textContent = "";
    record.aliases.forEach(function (alias) {
      listNode.appendChild(el("li", { class: "label-chip fact-alias", "data-alias": alias }, [
        el("span", { class: "label-text", lang: textLang(alias), text: alias }),
        editable ? el("button", { class: "label-remove fact-alias-remove", type: "button", "data-alias": alias, "aria-label": t("factAliasRemove", { alias: alias }), title: t("factAliasRemove", { alias: alias }), disabled: state.facts.aliasBusy, text: "×" }) : null
      ]));
    });
    ui["fact-alias-empty"].hidden = record.aliases.length > 0;
    ui["fact-alias-form"].hidden = !editable;
    ui["fact-alias-submit"].disabled = state.facts.aliasBusy || state.facts.conflict;
  }

  function renderHistory() {
    var facts = state.facts;
    var listNode = ui["fact-history"];
    listNode.textContent = "";
    facts.history.forEach(function (c) {
      listNode.appendChild(el("li", { class: "fact-change", "data-field": c.field, "data-editor": c.editor }, [
        el("span", { class: "fact-change-who", text: stampText({ who: c.editor, when: c.when }) }),
        el("span", { class: "fact-change-what" }, [
          el("code", { class: "fact-change-field", text: c.field }),
          el("span", { class: "fact-change-old" + (c.old === null || c.old === "" ? " is-empty" : ""), text: valueText(c.old) }),
          el("span", { class: "fact-change-arrow", "aria-hidden": "true", text: " → " }),
          el("span", { class: "sr-only", text: state.lang === "zh" ? "改为" : "to" }),
          el("span", { class: "fact-change-new", text: valueText(c["new"]) })
        ])
      ]));
    });
    ui["fact-history-empty"].hidden = !facts.record || facts.history.length > 0;
  }

  function bindFacts() {
    ui["nav-facts"].addEventListener("click", function () {
      setPage("facts", "click");
    });
    ui["facts-kind"].addEventListener("change", function () {
      var kind = oneOf(ui["facts-kind"].value, RECORD_KINDS);
      if (!kind || kind === state.facts.kind) return;
      save("factsKind", kind);
      var filter = state.facts.filter;
      resetFacts();
      state.facts.filter = filter;
      loadFacts();
    });
    ui["facts-filter"].addEventListener("input", function () {
      state.facts.filter = ui["facts-filter"].value;
      renderFactList();
    });
    ui["facts-retry"].addEventListener("click", loadFacts);
    ui["facts-list"].addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest(".fact-item") : null;
      if (!button) return;
      loadFact(button.getAttribute("data-key"), true).then(function () {
        if (state.facts.record && isNarrow()) ui["fact-title"].focus();
      });
    });
    ui["fact-fields"].addEventListener("input", onFactInput);
    ui["fact-fields"].addEventListener("change", onFactInput);
    ui["fact-form"].addEventListener("submit", saveFact);
    ui["fact-reload"].addEventListener("click", function () {
      if (state.facts.key) loadFact(state.facts.key, true);
    });
    ui["fact-alias-form"].addEventListener("submit", addAlias);
    ui["fact-alias-list"].addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest(".fact-alias-remove") : null;
      if (button) aliasAction("delete", button.getAttribute("data-alias"));
    });
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
    if (!state.me || document.body.getAttribute("data-screen") !== "console") return;
    var alt = event.altKey && !event.ctrlKey && !event.metaKey;
    if (alt && event.code === "KeyA" && canAnnotate() && !ui["canned-dialog"].open && !ui["shortcut-help"].open && !ui["report-transcript-dialog"].open) {
      event.preventDefault();
      openAsk();
      return;
    }
    if (ui["shortcut-help"].open || ui["ask-dialog"].open || ui["canned-dialog"].open || ui["report-transcript-dialog"].open) return; // the dialog's own keys (Esc closes it)
    var digit = alt && /^(Digit|Numpad)[1-4]$/.test(event.code) ? Number(event.code.slice(-1)) : 0;
    if (digit && canAnnotate()) {
      event.preventDefault();
      setPage(PAGES[digit - 1], "shortcut");
      return;
    }
    if (state.page !== "queue") {
      // the queue's own keys (J / K, Alt+N / P) are for the queue page only
      if (!event.ctrlKey && !event.metaKey && !event.altKey && !isTextField(event.target) && event.key === "?") {
        event.preventDefault();
        showHelp();
      }
      return;
    }
    if (alt && (event.code === "KeyN" || event.code === "KeyP")) {
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
      if (slashKey(event)) return;
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        sendReply();
      }
    });
    ui["reply-text"].addEventListener("click", updateSlash); // the caret moved in or out of "/word"
    ui["note-mode"].addEventListener("change", function () {
      setNoteMode(ui["note-mode"].checked);
    });
    ui["label-form"].addEventListener("submit", addLabel);
    ui["label-list"].addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest(".label-remove") : null;
      if (button) removeLabel(button.getAttribute("data-label"));
    });
    ui["canned-button"].addEventListener("click", toggleCannedPicker);
    ui["canned-filter"].addEventListener("input", function () {
      state.cannedActive = 0;
      renderCannedPanel();
    });
    ui["canned-filter"].addEventListener("keydown", onFilterKey);
    ui["canned-list"].addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest(".canned-item") : null;
      if (button) insertCanned(findCanned(button.getAttribute("data-id")));
    });
    ui["canned-panel"].addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        closeCanned(true);
      }
    });
    document.addEventListener("click", function (event) {
      if (state.cannedPanel && !ui["reply-form"].contains(event.target)) closeCanned(false);
    });
    ui["canned-manage"].addEventListener("click", openCannedManage);
    ui["canned-manage-list"].addEventListener("click", onManageClick);
    ui["canned-form"].addEventListener("submit", saveCanned);
    ui["canned-cancel"].addEventListener("click", function () {
      editCanned(null);
      ui["canned-shortcut"].focus();
    });
    ui["ask-button"].addEventListener("click", openAsk);
    ui["ask-form"].addEventListener("submit", submitAsk);
    ui["ask-text"].addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) submitAsk(event);
    });
    [["ask-close", "ask-dialog"], ["canned-dialog-close", "canned-dialog"]].forEach(function (pair) {
      ui[pair[0]].addEventListener("click", function () {
        closeDialog(ui[pair[1]]);
      });
    });
    ["ask-dialog", "canned-dialog", "report-transcript-dialog"].forEach(function (id) {
      ui[id].addEventListener("close", dialogClosed);
      ui[id].addEventListener("click", function (event) {
        // the backdrop; a click on the dialog's own padding must not lose what was typed
        if (event.target !== ui[id]) return;
        var box = ui[id].getBoundingClientRect();
        var inside = event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
        if (!inside) closeDialog(ui[id]);
      });
    });
    bindReports();
    bindFacts();
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
    state.page = oneOf(load("page", null), PAGES) || "queue";
    state.reports.unanswered.days = oneOf(load("days", null), DAY_CHOICES) || 7;
    state.reports.dashboard.hours = oneOf(load("hours", null), HOUR_CHOICES) || 24;
    resetFacts();
    ui["reply-text"].setAttribute("maxlength", String(MAX_REPLY));
    ui["ask-text"].setAttribute("maxlength", String(MAX_QUESTION));
    ["canned-zh", "canned-en"].forEach(function (id) {
      ui[id].setAttribute("maxlength", String(MAX_STAFF_TEXT));
    });
    bind();
    applyLanguage();
    boot();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
