// Countdowns that tick, and a page that follows the system by itself: it asks /web/live every second
// and, when what concerns its reader (their council's children, their provider's assignments) has
// changed, fetches itself again and replaces its main content. Neither counts as the person's use:
// after 30 minutes without one the session ends and the page shows the sign-in page.
// Never under someone's hands: while a form on the page has focus or has been filled in, it only says
// (politely, to screen readers too) that there is news, with a button to show it. No inline script:
// the Content-Security-Policy forbids it.
"use strict";

const UNITS = { en: ["d", "h", "min"], cy: ["d", "awr", "mun"] };
const WORDS = {
  en: { closes: "closes in ", soon: "closing soon: ", left: " left", passed: "window passed",
        news: "There is new information.", show: "Show it" },
  cy: { closes: "yn cau ymhen ", soon: "yn cau cyn bo hir: ", left: " ar ôl",
        passed: "mae'r cyfnod wedi mynd heibio", news: "Mae gwybodaeth newydd.", show: "Ei dangos" },
};
let touched = false; // a form on the page has been changed since it was shown

function span(ms, lang) {
  const [d, h, m] = UNITS[lang] || UNITS.en;
  let minutes = Math.max(Math.floor(ms / 60000), 0);
  const days = Math.floor(minutes / 1440);
  minutes -= days * 1440;
  const hours = Math.floor(minutes / 60);
  minutes -= hours * 60;
  const parts = [];
  if (days) parts.push(days + " " + d);
  if (days || hours) parts.push(hours + " " + h);
  parts.push(minutes + " " + m);
  return parts.join(" ");
}

function tick() {
  const now = Date.now();
  for (const el of document.querySelectorAll(".countdown[data-due]")) {
    const lang = el.dataset.lang === "cy" ? "cy" : "en";
    const due = Date.parse(el.dataset.due);
    const row = el.closest("tr");
    if (due <= now) {
      el.textContent = el.dataset.passed || WORDS[lang].passed;
      if (row) row.className = "breached";
    } else {
      const warn = el.dataset.warn ? Date.parse(el.dataset.warn) : null;
      const soon = warn !== null && now >= warn;
      el.textContent = soon
        ? WORDS[lang].soon + span(due - now, lang) + WORDS[lang].left
        : WORDS[lang].closes + span(due - now, lang);
      if (row && warn !== null) row.className = soon ? "warning" : "open";
    }
  }
}

async function follow() {
  const main = document.getElementById("main");
  if (!main || !main.dataset.live) return;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    try {
      const answer = await fetch("/web/live", { credentials: "same-origin", cache: "no-store" });
      if (answer.status === 401) { window.location.assign("/web/sign-in"); return; }
      const { version } = await answer.json();
      if (version === main.dataset.live) continue;
      if (busy(main)) { announce(main); continue; }
      if (!(await refresh(main))) main.dataset.live = version;
    } catch (error) {
      // the service is restarting or the network dropped: ask again next second
    }
  }
}

function busy(main) {
  const active = document.activeElement;
  return touched || (active && main.contains(active) && active.closest("form") !== null);
}

async function refresh(main) {
  // Marked as the page's own fetch: not a person's action (the idle sign-out still comes), not a new view.
  const page = await fetch(window.location.pathname, {
    credentials: "same-origin", cache: "no-store", headers: { "x-mtp-refresh": "1" },
  });
  if (page.redirected && new URL(page.url).pathname === "/web/sign-in") {
    window.location.assign("/web/sign-in");
    return null;
  }
  const fresh = new DOMParser().parseFromString(await page.text(), "text/html").getElementById("main");
  if (!fresh) return null;
  main.replaceChildren(...fresh.childNodes);
  main.dataset.live = fresh.dataset.live || "";
  touched = false;
  tick();
  return main.dataset.live;
}

function announce(main) {
  if (document.getElementById("news")) return;
  const lang = document.documentElement.lang === "cy" ? "cy" : "en";
  const note = document.createElement("p");
  note.id = "news";
  note.className = "news";
  note.setAttribute("role", "status");
  note.textContent = WORDS[lang].news + " ";
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = WORDS[lang].show;
  button.addEventListener("click", () => { touched = false; refresh(main); });
  note.appendChild(button);
  main.prepend(note);
}

document.addEventListener("DOMContentLoaded", () => {
  document.addEventListener("input", (event) => {
    if (event.target.closest && event.target.closest("#main form")) touched = true;
  });
  tick();
  setInterval(tick, 1000);
  follow();
});
