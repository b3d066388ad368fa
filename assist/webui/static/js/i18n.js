// UI strings in Chinese and English, and the names of the shared vocabulary (emotions, cues, profile
// labels, techniques, situations) in both. The language comes from ?lang=, then localStorage, then the browser.
const STRINGS = {
  en: {
    sidebar: "Agent Assist", conversation: "Conversation", join: "Join", connected: "connected",
    connecting: "connecting…", disconnected: "offline — reconnecting", unauthorized: "token refused",
    needToken: "sign-in needed", emotion: "Customer emotion", intensity: "intensity", trend: "trend",
    escalating: "escalating", calming: "calming", steady: "steady", latest: "Latest message",
    messages: "Conversation", customer: "Customer", agent: "Agent", profile: "Customer type", hints: "Strategy",
    suggestions: "Suggestions", copy: "Copy", insert: "Insert", dismiss: "Dismiss",
    copied: "Suggestion {n} copied", inserted: "Suggestion {n} inserted into the draft", dismissed: "Suggestion dismissed",
    copyFailed: "Could not reach the clipboard; the text is selected in the draft instead",
    newSuggestions: "{n} new suggestions", draft: "Your draft",
    draftHelp: "Type your reply; negative phrasing is rewritten as you type.",
    rewrite: "Suggested rewrite", accept: "Accept rewrite", accepted: "Rewrite accepted",
    noChange: "Reads well: nothing to rewrite.", updating: "Checking…", removed: "removed", added: "added",
    why: "why", none: "Nothing yet.", noProfile: "No signals yet.", slot: "fill in", flags: "Check",
    shortcuts: "Alt+1…5 copy · Alt+Shift+1…5 insert · Alt+Enter accept rewrite",
    language: "中文", languageName: "Switch the interface to Chinese", waiting: "Waiting for the customer's message…",
    evidence: "evidence", confidence: "confidence", fits: "fits", technique: "technique", shares: "shares",
    otherReading: "other reading",
    learnedUsed: "used {n}× for similar messages", learnedDismissed: "dismissed {n}× for similar messages",
    learnedBoth: "used {u}×, dismissed {d}× for similar messages",
    token: "Agent token", signIn: "Sign in", tokenHelp: "This service needs an agent token.",
    tokenRefused: "The token was refused (unknown, revoked, or not an agent's).", error: "Error",
    truncated: "(cut: too long)", joinHelp: "Type a conversation id and press Join.",
  },
  zh: {
    sidebar: "坐席助手", conversation: "会话", join: "加入", connected: "已连接", connecting: "连接中…",
    disconnected: "已断开，正在重连", unauthorized: "令牌被拒绝", needToken: "需要登录",
    emotion: "客户情绪", intensity: "强度", trend: "趋势", escalating: "升级", calming: "缓和", steady: "平稳",
    latest: "最新消息", messages: "对话", customer: "客户", agent: "坐席", profile: "客户类型", hints: "沟通策略",
    suggestions: "推荐话术", copy: "复制", insert: "插入", dismiss: "忽略",
    copied: "已复制第 {n} 条话术", inserted: "第 {n} 条话术已插入草稿", dismissed: "已忽略该话术",
    copyFailed: "无法访问剪贴板，已在草稿中选中文本", newSuggestions: "{n} 条新话术",
    draft: "您的草稿", draftHelp: "输入回复，负面表达会随输入改写。", rewrite: "建议改写", accept: "采用改写",
    accepted: "已采用改写", noChange: "表达得体，无需修改。", updating: "检查中…", removed: "删除", added: "新增",
    why: "原因", none: "暂无。", noProfile: "暂无特征。", slot: "填写", flags: "请检查",
    shortcuts: "Alt+1…5 复制 · Alt+Shift+1…5 插入 · Alt+Enter 采用改写",
    language: "English", languageName: "Switch the interface to English", waiting: "等待客户消息…",
    evidence: "依据", confidence: "置信度", fits: "适合", technique: "技巧", shares: "共同词",
    otherReading: "另一种解读",
    learnedUsed: "类似消息中被采用 {n} 次", learnedDismissed: "类似消息中被忽略 {n} 次",
    learnedBoth: "类似消息中被采用 {u} 次、忽略 {d} 次",
    token: "坐席令牌", signIn: "登录", tokenHelp: "此服务需要坐席令牌。",
    tokenRefused: "令牌被拒绝（未知、已吊销或不是坐席令牌）。", error: "错误",
    truncated: "（过长，已截断）", joinHelp: "输入会话编号后点击“加入”。",
  },
};

const VOCAB = {
  en: {
    anger: "anger", frustration: "frustration", anxiety: "anxiety", disappointment: "disappointment",
    confusion: "confusion", satisfaction: "satisfaction", neutral: "neutral",
    "cue:exclamation": "exclamation", "cue:caps": "capitals", "cue:sigh": "sigh", "cue:insult": "insult",
    "cue:threat": "threat", "cue:escalation": "asks for a manager", "cue:urgency": "urgency", "cue:sarcasm": "sarcasm",
    "cue:repetition": "repeats", "cue:burst": "burst", "cue:silence": "silence",
    "dim:temperament": "temperament", "dim:price_attitude": "price", "dim:knowledge": "knowledge",
    "dim:trust": "trust", "dim:social_style": "style",
    "temperament:silent": "silent", "temperament:talkative": "talkative", "temperament:amiable": "amiable",
    "temperament:proud": "proud", "temperament:nitpicky": "nitpicky", "price_attitude:no_haggle": "won't haggle",
    "price_attitude:tentative": "tries to haggle", "price_attitude:haggler": "haggler", "knowledge:novice": "novice",
    "knowledge:partial": "knows a little", "knowledge:expert": "expert", "trust:trusting": "trusting",
    "trust:skeptical": "skeptical", "social_style:analytical": "analytical", "social_style:driver": "driver",
    "social_style:expressive": "expressive", "social_style:amiable": "amiable",
    acknowledge: "acknowledge", praise: "praise", redirect: "redirect", reflective_question: "reflective question",
    restate: "restate", understand_and: "I understand… and at the same time…", feedback_sandwich: "feedback sandwich",
    expectation_setting: "expectation setting", apology: "apology", proactive_follow_up: "proactive follow-up",
    open_question: "open question", closed_question: "closed question", probing_question: "probing question",
    "sit:greeting": "greeting", "sit:delay": "delay", "sit:delivery": "delivery", "sit:refund_return": "refund / return",
    "sit:defect": "defect", "sit:billing": "billing", "sit:price": "price", "sit:account": "account",
    "sit:how_to": "how-to", "sit:complaint": "complaint", "sit:policy": "policy", "sit:apology": "apology",
    "sit:closing": "closing", "sit:authenticity": "authenticity",
  },
  zh: {
    anger: "愤怒", frustration: "沮丧", anxiety: "焦虑", disappointment: "失望", confusion: "困惑",
    satisfaction: "满意", neutral: "平静",
    "cue:exclamation": "感叹", "cue:caps": "大写", "cue:sigh": "叹气", "cue:insult": "辱骂", "cue:threat": "威胁投诉",
    "cue:escalation": "要求升级", "cue:urgency": "催促", "cue:sarcasm": "反讽", "cue:repetition": "重复",
    "cue:burst": "连发", "cue:silence": "沉默",
    "dim:temperament": "性格", "dim:price_attitude": "价格", "dim:knowledge": "专业度", "dim:trust": "信任",
    "dim:social_style": "风格",
    "temperament:silent": "沉默型", "temperament:talkative": "健谈型", "temperament:amiable": "随和型",
    "temperament:proud": "骄傲型", "temperament:nitpicky": "挑剔型", "price_attitude:no_haggle": "不议价",
    "price_attitude:tentative": "试探议价", "price_attitude:haggler": "爱砍价", "knowledge:novice": "新手",
    "knowledge:partial": "略懂", "knowledge:expert": "专家", "trust:trusting": "信任", "trust:skeptical": "多疑",
    "social_style:analytical": "分析型", "social_style:driver": "支配型", "social_style:expressive": "表现型",
    "social_style:amiable": "和蔼型",
    acknowledge: "认同", praise: "赞美", redirect: "转移", reflective_question: "反问", restate: "复述",
    understand_and: "合一架构法", feedback_sandwich: "三明治反馈", expectation_setting: "设定预期",
    apology: "致歉", proactive_follow_up: "主动跟进", open_question: "开放式提问", closed_question: "封闭式提问",
    probing_question: "探询式提问",
    "sit:greeting": "问候", "sit:delay": "延误", "sit:delivery": "物流", "sit:refund_return": "退换货",
    "sit:defect": "质量问题", "sit:billing": "扣费账单", "sit:price": "价格", "sit:account": "账户",
    "sit:how_to": "使用咨询", "sit:complaint": "投诉", "sit:policy": "政策", "sit:apology": "致歉",
    "sit:closing": "结束", "sit:authenticity": "真伪",
  },
};

function initial() {
  const asked = new URLSearchParams(location.search).get("lang");
  let stored = null;
  try { stored = localStorage.getItem("assist-ui-lang"); } catch { /* storage may be blocked in iframes */ }
  const pick = asked || stored || navigator.language || "en";
  return pick.toLowerCase().startsWith("zh") ? "zh" : "en";
}

let lang = initial();

/** A UI string; `{n}`-style fields are filled from `vars`. */
export function t(key, vars = {}) {
  const s = (STRINGS[lang] && STRINGS[lang][key]) || STRINGS.en[key] || key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

/** The name of a vocabulary label in the UI language (`anger`, `cue:threat`, `trust:skeptical`, `sit:delay`). */
export function v(key) {
  return (VOCAB[lang] && VOCAB[lang][key]) || VOCAB.en[key] || key.replace(/^(cue|dim|sit):/, "").replace(/_/g, " ");
}

/** What the team's agents did with a phrase for similar messages (`reasons.learned`), in the UI language. */
export function learned(l) {
  if (!l || (!l.used && !l.dismissed)) return "";
  if (l.used && l.dismissed) return t("learnedBoth", { u: l.used, d: l.dismissed });
  return l.used ? t("learnedUsed", { n: l.used }) : t("learnedDismissed", { n: l.dismissed });
}

/** A suggestion's `reasons` ({emotions, other_reading, situations, profile_fits, technique, shared_terms, learned})
 * as one line in the UI language, e.g. "anger + delay; fits skeptical; technique: apology; shares 订单". */
export function reasons(r) {
  if (!r) return "";
  const parts = [];
  const labels = (r.emotions || []).map(v);
  if (r.other_reading) {  // answers a less likely reading of the message
    const name = v(r.other_reading);
    labels.push(lang === "zh" ? `${name}（${t("otherReading")}）` : `${name} (${t("otherReading")})`);
  }
  labels.push(...(r.situations || []).map((s) => v(`sit:${s}`)));
  if (labels.length) parts.push(labels.join(" + "));
  if (r.profile_fits && r.profile_fits.length) parts.push(`${t("fits")} ${r.profile_fits.map(v).join(lang === "zh" ? "、" : ", ")}`);
  if (r.technique) parts.push(`${t("technique")}: ${v(r.technique)}`);
  if (r.shared_terms && r.shared_terms.length) parts.push(`${t("shares")}: ${r.shared_terms.join(lang === "zh" ? "、" : ", ")}`);
  if (r.learned) parts.push(learned(r.learned));
  return parts.join(lang === "zh" ? "；" : "; ");
}

export function currentLang() { return lang; }

export function setLang(next) {
  lang = next === "zh" ? "zh" : "en";
  document.documentElement.lang = lang === "zh" ? "zh-Hans" : "en";
  try { localStorage.setItem("assist-ui-lang", lang); } catch { /* ignore */ }
}

export function toggleLang() { setLang(lang === "zh" ? "en" : "zh"); }
