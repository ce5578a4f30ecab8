// Draws the timeline: one bar per withdrawal from announcement to deadline or completion.
(function () {
  "use strict";
  var node = document.getElementById("timeline-data");
  var canvas = document.getElementById("timeline");
  if (!node || !canvas || typeof Chart === "undefined") { return; }
  var rows = JSON.parse(node.textContent).filter(function (r) { return r.start && r.end; });
  var colours = {
    overdue: "#b3261e", due_soon: "#8a5300", in_progress: "#1d5fa8", announced: "#5a5a5a",
    completed: "#1e6b34", completed_early: "#1e6b34", completed_on_time: "#1e6b34",
    completed_late: "#6b4e1e", cancelled: "#777777"
  };
  function day(iso) { return Date.parse(iso + "T00:00:00Z"); }
  var today = Date.now();
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: rows.map(function (r) { return r.label; }),
      datasets: [{
        label: "Announcement to deadline or completion",
        data: rows.map(function (r) {
          var start = day(r.start), end = day(r.end);
          return [start, Math.max(end, start + 86400000)];
        }),
        backgroundColor: rows.map(function (r) { return colours[r.status] || "#5a5a5a"; })
      }]
    },
    options: {
      indexAxis: "y",
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        x: {
          type: "linear",
          min: Math.min.apply(null, rows.map(function (r) { return day(r.start); }).concat([today])) - 30 * 86400000,
          max: Math.max.apply(null, rows.map(function (r) { return day(r.end); }).concat([today])) + 30 * 86400000,
          ticks: { callback: function (v) { return new Date(v).toISOString().slice(0, 7); } }
        }
      },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: function (ctx) {
          var r = rows[ctx.dataIndex];
          return r.status_label + (r.deadline ? " · deadline " + r.deadline : "");
        } } }
      },
      onClick: function (event, elements) {
        if (elements.length) { window.location.href = rows[elements[0].index].url; }
      }
    },
    plugins: [{
      id: "today",
      afterDatasetsDraw: function (chart) {
        var x = chart.scales.x.getPixelForValue(today);
        var ctx = chart.ctx;
        ctx.save();
        ctx.strokeStyle = "#b3261e";
        ctx.beginPath();
        ctx.moveTo(x, chart.chartArea.top);
        ctx.lineTo(x, chart.chartArea.bottom);
        ctx.stroke();
        ctx.restore();
      }
    }]
  });
})();
