// UI strings in Chinese and English; the language comes from ?lang=, then the browser.
const STRINGS = {
  en: {
    sidebar: "Agent Assist", conversation: "Conversation", join: "Join", connected: "connected",
    connecting: "connecting…", disconnected: "disconnected — reconnecting", emotion: "Customer emotion",
    intensity: "intensity", trend: "trend", escalating: "escalating ↑", calming: "calming ↓", steady: "steady →",
    messages: "Messages", customer: "Customer", agent: "Agent", profile: "Customer type", hints: "Strategy",
    suggestions: "Suggestions", copy: "Copy", insert: "Insert", dismiss: "Dismiss", copied: "copied",
    draft: "Your draft", draftHelp: "Type your reply; negative phrasing is rewritten as you type.",
    rewrite: "Suggested rewrite", accept: "Accept rewrite", noChange: "No changes needed.",
    why: "why", none: "Nothing yet.", slot: "fill in", shortcuts: "Alt+1…5 copies a suggestion",
    language: "中文", waiting: "Waiting for the customer's message…", flags: "Check",
    anger: "anger", frustration: "frustration", anxiety: "anxiety", disappointment: "disappointment",
    confusion: "confusion", satisfaction: "satisfaction", neutral: "neutral",
  },
  zh: {
    sidebar: "坐席助手", conversation: "会话", join: "加入", connected: "已连接", connecting: "连接中…",
    disconnected: "连接断开，正在重连", emotion: "客户情绪", intensity: "强度", trend: "趋势",
    escalating: "升级 ↑", calming: "缓和 ↓", steady: "平稳 →", messages: "消息", customer: "客户", agent: "坐席",
    profile: "客户类型", hints: "沟通策略", suggestions: "推荐话术", copy: "复制", insert: "插入", dismiss: "忽略",
    copied: "已复制", draft: "您的草稿", draftHelp: "输入回复，负面表达会随输入改写。", rewrite: "建议改写",
    accept: "采用改写", noChange: "无需修改。", why: "原因", none: "暂无。", slot: "填写", shortcuts: "Alt+1…5 复制话术",
    language: "English", waiting: "等待客户消息…", flags: "请检查",
    anger: "愤怒", frustration: "沮丧", anxiety: "焦虑", disappointment: "失望", confusion: "困惑",
    satisfaction: "满意", neutral: "平静",
  },
};

const asked = new URLSearchParams(location.search).get("lang");
let lang = asked ? (asked.startsWith("zh") ? "zh" : "en")
  : ((navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en");

export function t(key) {
  return (STRINGS[lang] && STRINGS[lang][key]) || STRINGS.en[key] || key;
}
export function currentLang() { return lang; }
export function toggleLang() { lang = lang === "zh" ? "en" : "zh"; document.documentElement.lang = lang === "zh" ? "zh-Hans" : "en"; }
