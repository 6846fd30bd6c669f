// Salesledger dashboard: draws the charts from the page's own number cells and applies live
// numbers from /ui/events (server-sent events) without reloading. The page reads fully without it.
"use strict";
(function () {
  const charts = [];
  function numbersOf(ids) {
    return ids.map((id) => { const el = document.getElementById(id); const v = el ? parseFloat(el.textContent) : NaN; return isNaN(v) ? 0 : v; });
  }
  function drawCharts() {
    charts.splice(0).forEach((c) => c.chart.destroy());
    if (typeof Chart === "undefined") return;
    document.querySelectorAll("script[data-chart]").forEach((spec) => {
      const s = JSON.parse(spec.textContent);
      const canvas = document.getElementById(spec.dataset.chart);
      const chart = new Chart(canvas, {
        type: "bar",
        data: { labels: s.labels, datasets: [{ label: s.label, data: numbersOf(s.cells), backgroundColor: "#0969da" }] },
        options: { animation: false, maintainAspectRatio: false, responsive: true, plugins: { legend: { display: false } } },
      });
      charts.push({ chart: chart, cells: s.cells });
    });
  }
  function redraw() {
    charts.forEach((c) => { c.chart.data.datasets[0].data = numbersOf(c.cells); c.chart.update("none"); });
  }
  function say(text) { const el = document.getElementById("live-state"); if (el) el.textContent = text; }
  async function refetch() {
    const response = await fetch(location.href, { credentials: "same-origin" });
    if (!response.ok) return;
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    document.getElementById("main").replaceWith(doc.getElementById("main"));
    document.body.dataset.shape = doc.body.dataset.shape;
    drawCharts();
  }
  function listen() {
    if (!document.getElementById("main") || document.body.dataset.shape === "index") return;
    const source = new EventSource("/ui/events?page=" + encodeURIComponent(location.pathname + location.search));
    source.addEventListener("open", () => say("live"));
    source.addEventListener("error", () => say("reconnecting…"));
    source.addEventListener("refused", () => { say("live updates refused: sign in again"); source.close(); });
    source.addEventListener("numbers", (event) => {
      const update = JSON.parse(event.data);
      if (update.shape !== document.body.dataset.shape) { refetch(); return; }
      for (const [id, text] of Object.entries(update.cells)) {
        const el = document.getElementById(id);
        if (el && el.textContent !== text) el.textContent = text;
      }
      redraw();
      document.body.dataset.updated = String(Date.now());
      say("live");
    });
  }
  document.addEventListener("DOMContentLoaded", () => { drawCharts(); listen(); });
})();
