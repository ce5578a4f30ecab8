// The dashboard: draws the timeline and keeps the list current by polling the server.
// Statuses and their words come from the server; this script only draws and patches.
(function () {
  "use strict";
  var DAY = 86400000;
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var COLOURS = {
    overdue: "#b3261e", due_soon: "#8a5300", in_progress: "#1d5fa8", announced: "#4f5b66",
    completed: "#1e6b34", completed_early: "#1e6b34", completed_on_time: "#1e6b34",
    completed_late: "#6b4e1e", cancelled: "#595959"
  };
  var chart = null;

  function day(iso) { return Date.parse(iso + "T00:00:00Z"); }
  function month(ms) { var d = new Date(ms); return MONTHS[d.getUTCMonth()] + " " + d.getUTCFullYear(); }

  function uniqueLabels(rows) {
    // The category axis finds rows by label, so two rows must never share one.
    var seen = {};
    return rows.map(function (r) {
      var label = r.label;
      seen[label] = (seen[label] || 0) + 1;
      return seen[label] > 1 ? label + " (" + seen[label] + ")" : label;
    });
  }

  function chartData(rows, range) {
    var labels = uniqueLabels(rows);
    // A bar stays visible when its start and end are the same day.
    var minimum = Math.max(DAY, (range.max - range.min) * 0.01);
    var points = [];
    rows.forEach(function (r, i) {
      r.milestones.forEach(function (m) {
        points.push({ x: day(m.date), y: labels[i], row: i, milestone: m });
      });
    });
    return {
      labels: labels,
      datasets: [{
        label: "Announcement to deadline or completion",
        data: rows.map(function (r) {
          var start = day(r.start), end = day(r.end);
          return [start, Math.max(end, start + minimum)];
        }),
        backgroundColor: rows.map(function (r) { return COLOURS[r.status] || "#4f5b66"; }),
        borderRadius: 4,
        barPercentage: 0.7,
        categoryPercentage: 0.9,
        order: 2
      }, {
        type: "scatter",
        indexAxis: "x",
        label: "Milestones",
        data: points,
        pointRadius: 5,
        pointHoverRadius: 7,
        pointBackgroundColor: "#ffffff",
        pointBorderColor: "#1b2a3a",
        pointBorderWidth: 2,
        order: 1
      }]
    };
  }

  function bounds(rows) {
    var today = Date.now();
    var starts = rows.map(function (r) { return day(r.start); }).concat([today]);
    var ends = rows.map(function (r) { return day(r.end); }).concat([today]);
    var min = Math.min.apply(null, starts), max = Math.max.apply(null, ends);
    var pad = Math.max(15 * DAY, (max - min) * 0.04);
    return { min: min - pad, max: max + pad };
  }

  var todayLine = {
    id: "today",
    afterDatasetsDraw: function (c) {
      var x = c.scales.x.getPixelForValue(Date.now());
      var area = c.chartArea;
      if (x < area.left || x > area.right) { return; }
      var ctx = c.ctx;
      ctx.save();
      ctx.strokeStyle = "#b3261e";
      ctx.lineWidth = 2;
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      ctx.moveTo(x, area.top);
      ctx.lineTo(x, area.bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = "#b3261e";
      ctx.font = "600 12px system-ui, sans-serif";
      ctx.textAlign = x > area.right - 40 ? "right" : "left";
      ctx.fillText("today", x + (ctx.textAlign === "right" ? -4 : 4), area.top + 12);
      ctx.restore();
    }
  };

  function drawChart(rows) {
    var canvas = document.getElementById("timeline");
    if (!canvas || typeof Chart === "undefined") { return; }
    rows = rows.filter(function (r) { return r.start && r.end; });
    // CSSOM, not a style attribute: the Content Security Policy allows this.
    canvas.parentNode.style.height = Math.max(160, rows.length * 34 + 70) + "px";
    var range = bounds(rows);
    if (chart) {
      chart.data = chartData(rows, range);
      chart.options.scales.x.min = range.min;
      chart.options.scales.x.max = range.max;
      chart.$rows = rows;
      chart.update("none");
      return;
    }
    chart = new Chart(canvas, {
      type: "bar",
      data: chartData(rows, range),
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "nearest", intersect: true },
        scales: {
          x: {
            type: "linear", position: "top", min: range.min, max: range.max,
            ticks: { callback: month, maxTicksLimit: 8, color: "#3b4650" },
            grid: { color: "#e3e7eb" }
          },
          y: {
            type: "category", grid: { display: false },
            ticks: {
              color: "#1b2a3a", font: { weight: "600" },
              callback: function (value) {
                // Narrow screens: shorten long names rather than cut them at the edge.
                var label = this.getLabelForValue(value);
                return this.chart.width < 560 && label.length > 18 ? label.slice(0, 17) + "…" : label;
              }
            }
          }
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: function (items) {
                var item = items[0];
                if (item.datasetIndex === 1) { return item.raw.milestone.title; }
                return chart.$rows[item.dataIndex].label;
              },
              label: function (item) {
                if (item.datasetIndex === 1) {
                  var m = item.raw.milestone;
                  return m.when + " · " + m.state;
                }
                var r = chart.$rows[item.dataIndex];
                var lines = [r.status_label + " · " + r.countdown];
                if (r.announced) { lines.push("announced " + r.announced); }
                if (r.deadline) { lines.push("deadline " + r.deadline); }
                if (r.completed) { lines.push("completed " + r.completed); }
                return lines;
              }
            }
          }
        },
        onHover: function (event, elements) {
          event.native.target.style.cursor = elements.length ? "pointer" : "default";
        },
        onClick: function (event, elements) {
          if (!elements.length) { return; }
          var el = elements[0];
          var index = el.datasetIndex === 1 ? chart.data.datasets[1].data[el.index].row : el.index;
          window.location.href = chart.$rows[index].url;
        }
      },
      plugins: [todayLine]
    });
    chart.$rows = rows;
  }

  // --- Staying current: the server re-renders the cards; changed ones are swapped in.
  var list = document.getElementById("withdrawal-list");
  var statusLine = document.getElementById("refresh-status");

  function ids(root) {
    return Array.prototype.map.call(root.querySelectorAll("[data-withdrawal]"), function (el) {
      return el.getAttribute("data-withdrawal");
    }).join(",");
  }

  function patch(payload) {
    var fresh = document.createElement("template");
    fresh.innerHTML = payload.list_html;
    var changed = 0;
    if (ids(fresh.content) !== ids(list)) {
      list.replaceChildren(fresh.content);
      changed = -1;
    } else {
      fresh.content.querySelectorAll("[data-withdrawal]").forEach(function (card) {
        var old = document.getElementById(card.id);
        if (old && old.getAttribute("data-version") !== card.getAttribute("data-version")) {
          old.replaceWith(card);
          changed += 1;
        }
      });
    }
    Object.keys(payload.counts).forEach(function (key) {
      var count = document.querySelector('[data-tab="' + key + '"] .tab-count');
      if (count) { count.textContent = payload.counts[key]; }
    });
    if (changed !== 0) {
      drawChart(payload.timeline);
      statusLine.textContent = changed < 0 ? "The list was updated." :
        (changed === 1 ? "1 withdrawal was updated." : changed + " withdrawals were updated.");
    }
  }

  function poll() {
    if (document.hidden) { return; }
    fetch(list.getAttribute("data-poll-url"), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (payload) { if (payload) { patch(payload); } })
      .catch(function () { /* offline for now: the next poll tries again */ });
  }

  var node = document.getElementById("timeline-data");
  if (node) { drawChart(JSON.parse(node.textContent)); }
  if (list) {
    var seconds = parseInt(list.getAttribute("data-poll-seconds") || "30", 10);
    window.setInterval(poll, seconds * 1000);
    document.addEventListener("visibilitychange", poll);
  }
})();
