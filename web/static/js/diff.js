// A character-level diff (longest common subsequence) for the console's history: short texts only.
// Works on code points so CJK and emoji stay whole. Returns [{op: "=", "-" or "+", text}].
const LIMIT = 2000;

export function diffChars(before, after) {
  const a = Array.from(before || "");
  const b = Array.from(after || "");
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
  return out;
}
