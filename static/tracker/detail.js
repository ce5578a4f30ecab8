// The detail page: draws personnel figures over time when there are two or more.
(function () {
  "use strict";
  var node = document.getElementById("personnel-data");
  var canvas = document.getElementById("personnel-chart");
  if (!node || !canvas || typeof Chart === "undefined") { return; }
  var points = JSON.parse(node.textContent);
  var DAY = 86400000;
  function day(iso) { return Date.parse(iso + "T00:00:00Z"); }
  function label(ms) { return new Date(ms).toISOString().slice(0, 10); }
  var series = {};
  points.forEach(function (p) {
    (series[p.what] = series[p.what] || []).push({ x: day(p.date), y: p.value });
  });
  var colours = ["#1d5fa8", "#1e6b34", "#8a5300"];
  new Chart(canvas, {
    type: "line",
    data: {
      datasets: Object.keys(series).map(function (what, i) {
        return { label: what, data: series[what], borderColor: colours[i % 3],
                 backgroundColor: colours[i % 3], pointRadius: 4, tension: 0 };
      })
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        x: { type: "linear", ticks: { callback: label, maxTicksLimit: 6 },
             grace: DAY },
        y: { beginAtZero: true }
      },
      plugins: { tooltip: { callbacks: { title: function (items) { return label(items[0].parsed.x); } } } }
    }
  });
})();
