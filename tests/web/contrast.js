// WCAG 2.2 AA beyond what axe checks, run in the page by tests.factories.contrast_problems:
// each keyboard focus outline at 3:1 against what surrounds it (1.4.11), and each link set in
// running text without an underline at 3:1 against that text (1.4.1, technique G183).
// Returns one line per problem.
() => {
  const rgb = c => c.match(/[\d.]+/g).map(Number);
  const clear = c => { const v = rgb(c); return v.length > 3 && v[3] === 0; };
  const lum = c => { const [r, g, b] = rgb(c).slice(0, 3).map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const ratio = (a, b) => { const x = lum(a), y = lum(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const behind = el => { for (; el; el = el.parentElement) {
    const c = getComputedStyle(el).backgroundColor; if (!clear(c)) return c; }
    return "rgb(255, 255, 255)"; };
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " \u201c" +
    (el.innerText || el.value || el.getAttribute("aria-label") || "").replace(/\s+/g, " ").trim().slice(0, 40) + "\u201d";
  const seen = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const out = [];
  const focusable = "a[href], button, input:not([type=hidden]), select, textarea, summary";
  for (const el of document.querySelectorAll(focusable)) {
    if (!seen(el) || el.disabled) continue;
    el.focus({preventScroll: true});
    if (document.activeElement !== el) continue;
    const s = getComputedStyle(el);
    if (s.outlineStyle === "none" || parseFloat(s.outlineWidth) < 2) {
      out.push(`focus: ${name(el)} shows no outline of 2 px or more`); continue; }
    const around = behind(el.parentElement), r = ratio(s.outlineColor, around);
    if (r < 3) out.push(`focus: ${name(el)} outline ${s.outlineColor} on ${around} is ${r.toFixed(2)}:1`);
  }
  if (document.activeElement) document.activeElement.blur();
  for (const a of document.querySelectorAll("main a[href]")) {
    const s = getComputedStyle(a);
    if (!seen(a) || s.textDecorationLine.includes("underline") || !clear(s.backgroundColor)) continue;
    const p = a.parentElement, text = getComputedStyle(p).color;
    if (![...p.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const r = ratio(s.color, text);
    if (r < 3) out.push(`link: ${name(a)} ${s.color} beside text ${text} is ${r.toFixed(2)}:1, not underlined`);
  }
  return out;
}
