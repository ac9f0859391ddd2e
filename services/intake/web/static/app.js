// Countdowns that tick, and a page that follows the system by itself: it asks /web/live every second
// and, when what the system knows has changed, fetches itself again and replaces its main content
// (focus and scroll stay where they were). No inline script: the Content-Security-Policy forbids it.
"use strict";

const UNITS = { en: ["d", "h", "min"], cy: ["d", "awr", "mun"] };
const WORDS = {
  en: { closes: "closes in ", passed: "window passed" },
  cy: { closes: "yn cau ymhen ", passed: "mae'r cyfnod wedi mynd heibio" },
};

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
      el.textContent = WORDS[lang].passed;
      if (row) row.className = "breached";
    } else {
      el.textContent = WORDS[lang].closes + span(due - now, lang);
      const warn = el.dataset.warn ? Date.parse(el.dataset.warn) : null;
      if (row && warn !== null) row.className = now >= warn ? "warning" : "open";
    }
  }
}

async function follow() {
  const main = document.getElementById("main");
  if (!main || !main.dataset.live) return;
  let known = main.dataset.live;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    try {
      const answer = await fetch("/web/live", { credentials: "same-origin", cache: "no-store" });
      if (answer.status === 401) { window.location.assign("/web/sign-in"); return; }
      const { version } = await answer.json();
      if (version === known) continue;
      const page = await fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" });
      const fresh = new DOMParser().parseFromString(await page.text(), "text/html").getElementById("main");
      if (!fresh) continue;
      main.replaceChildren(...fresh.childNodes);
      known = fresh.dataset.live || version;
      main.dataset.live = known;
      tick();
    } catch (error) {
      // the service is restarting or the network dropped: ask again next second
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  tick();
  setInterval(tick, 1000);
  follow();
});
