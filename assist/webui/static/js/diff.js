// A diff (longest common subsequence) for the console's history, short texts only. Tokens are words for
// alphabetic scripts and single characters for Chinese (code points, so nothing splits a character).
// Returns [{op: "=", "-" or "+", text}].
const LIMIT = 2000;
const TOKEN = /\p{Script=Han}|[\p{L}\p{N}_'’{}]+|\s+|./gsu;

export function tokens(text) {
  return (text || "").match(TOKEN) || [];
}

export function diffChars(before, after) {
  const a = tokens(before);
  const b = tokens(after);
  if (a.length * b.length > LIMIT * LIMIT / 4 || a.length > LIMIT || b.length > LIMIT) {
    return [{ op: "-", text: a.join("") }, { op: "+", text: b.join("") }].filter((p) => p.text);
  }
  // Trim the common prefix and suffix first: edits are usually small.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA -= 1; endB -= 1; }
  const x = a.slice(start, endA);
  const y = b.slice(start, endB);
  const n = x.length;
  const m = y.length;
  const table = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      table[i][j] = x[i] === y[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
    }
  }
  const out = [];
  const push = (op, ch) => {
    const last = out[out.length - 1];
    if (last && last.op === op) last.text += ch;
    else out.push({ op, text: ch });
  };
  if (start) out.push({ op: "=", text: a.slice(0, start).join("") });
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) { push("=", x[i]); i += 1; j += 1; }
    else if (table[i + 1][j] >= table[i][j + 1]) { push("-", x[i]); i += 1; }
    else { push("+", y[j]); j += 1; }
  }
  while (i < n) { push("-", x[i]); i += 1; }
  while (j < m) { push("+", y[j]); j += 1; }
  if (endA < a.length) push("=", a.slice(endA).join(""));
  return tidy(out);
}

/** Fold a lone space between two changes into them, then give each run of changes one deletion and one
 *  insertion: "look into → check", not "look → check, into → ∅". */
function tidy(parts) {
  const out = [];
  let del = "";
  let ins = "";
  const flush = () => {
    if (del) out.push({ op: "-", text: del });
    if (ins) out.push({ op: "+", text: ins });
    del = "";
    ins = "";
  };
  parts.forEach((p, i) => {
    const between = p.op === "=" && /^\s+$/.test(p.text) && i > 0 && i < parts.length - 1 && parts[i + 1].op !== "=" && (del || ins);
    if (p.op === "-") del += p.text;
    else if (p.op === "+") ins += p.text;
    else if (between) { del += p.text; ins += p.text; }
    else { flush(); out.push(p); }
  });
  flush();
  return out;
}
