// Checks run inside each page of the built book by tests/book/test_browser.py.
// Returns a list of problems, each {check, element, where, detail}; an empty list is a pass.
// `arguments[0]` is the allowance in CSS pixels for blocks wider than the text column.
const allowance = arguments[0];
const article = document.querySelector("article.bd-article") || document.querySelector("main") ||
                document.body;
const problems = [];

// the heading the element sits under, so a failure message points at a place on the page
function where(el) {
  let last = null;
  for (const h of article.querySelectorAll("h1, h2, h3, h4")) {
    if (h.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) last = h;
    else break;
  }
  return last ? "under heading '" + last.textContent.replace(/#$/, "").trim() + "'" :
                "at the top of the page";
}

function describe(el) {
  let s = "<" + el.tagName.toLowerCase();
  if (el.id) s += " id=" + el.id;
  const cls = Array.from(el.classList).slice(0, 4).join(" ");
  if (cls) s += " class='" + cls + "'";
  s += ">";
  const cell = el.closest(".cell");
  if (cell) {
    const cells = Array.from(article.querySelectorAll(".cell"));
    s += " in code cell #" + (cells.indexOf(cell) + 1) + " of the page";
    s += el.closest(".cell_output") ? " (output)" : " (source)";
  }
  const text = (el.innerText || el.textContent || "").trim().replace(/\s+/g, " ");
  if (text) s += ", text starts '" + text.slice(0, 70) + "'";
  return s;
}

function hidden(el) {
  // collapsed (toggled) content is not what a reader sees first; skip it
  return el.closest("details:not([open])") !== null || el.getClientRects().length === 0;
}

// 1. unrendered TeX: text outside MathJax's output, code and scripts that still looks like TeX
const tex = /(\$\$?[^$\n]{1,300}?\$\$?)|(\\\(|\\\)|\\\[|\\\]|\\begin\{|\\end\{|\\frac\{|\\mathrm\{|\\text\{)/;
const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
const skip = "mjx-container, script, style, pre, code, kbd, samp, textarea, .highlight, " +
             ".cell_input, .widget-subarea, .jupyter-widgets, .MathJax_Preview";
let node;
const texHits = new Set();
while ((node = walker.nextNode())) {
  const parent = node.parentElement;
  if (!parent || parent.closest(skip)) continue;
  const m = node.textContent.match(tex);
  if (m && !texHits.has(parent)) {
    texHits.add(parent);
    problems.push({check: "unrendered TeX", element: describe(parent), where: where(parent),
                   detail: "raw TeX '" + m[0].slice(0, 60) + "' outside any mjx-container"});
  }
}
if (article.querySelector(".math") && !article.querySelector("mjx-container")) {
  problems.push({check: "unrendered TeX", element: "<div class='math'>", where: "whole page",
                 detail: "the page has math but MathJax rendered none of it"});
}

// 2. widget areas: every saved widget view must have been replaced by a rendered, non-empty widget
for (const script of article.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')) {
  let id = "?";
  try { id = JSON.parse(script.textContent).model_id; } catch (e) {}
  const host = script.parentElement;
  const rendered = host.querySelector(".jupyter-widgets, .widget-subarea, .lm-Widget, .p-Widget");
  let why = null;
  if (!rendered) why = "no widget was rendered (the widget manager did not run or failed)";
  else {
    const r = rendered.getBoundingClientRect();
    const content = rendered.querySelectorAll("img, canvas, svg, input, select, button, .widget-label");
    if (r.height < 10 || r.width < 10) why = "rendered widget is " + r.width + "x" + r.height + " px";
    else if (content.length === 0 && !(rendered.innerText || "").trim()) why = "rendered widget is empty";
  }
  if (why) problems.push({check: "empty widget", element: "widget view model_id=" + id,
                          where: where(host), detail: why});
}

// 3. blocks wider than the text column
const textColumn = article.getBoundingClientRect();
const blocks = article.querySelectorAll(
  "pre, div.highlight, .cell_output .output, .cell_output table, table, mjx-container[display='true']");
const reported = [];
for (const el of blocks) {
  if (hidden(el)) continue;
  if (reported.some((r) => r.contains(el) || el.contains(r))) continue;
  const over = el.scrollWidth - el.clientWidth;
  const r = el.getBoundingClientRect();
  const beyond = r.right - textColumn.right;
  if (over > allowance || beyond > allowance) {
    reported.push(el);
    problems.push({check: "wider than the text column", element: describe(el), where: where(el),
                   detail: over > allowance ?
                     "content is " + el.scrollWidth + " px wide in a " + el.clientWidth +
                     " px box (scrolls sideways by " + over + " px; allowance " + allowance + ")" :
                     "box ends " + Math.round(beyond) + " px right of the text column"});
  }
}
return problems;
