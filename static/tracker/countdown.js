// Ticks the countdowns the server rendered, once a second. The status beside each one
// comes from the server; this only turns "time until the deadline" into words.
(function () {
  "use strict";
  var DAY = 86400;

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function describe(seconds) {
    var abs = Math.abs(seconds);
    var days = Math.floor(abs / DAY);
    var hours = Math.floor((abs % DAY) / 3600);
    var minutes = Math.floor((abs % 3600) / 60);
    var secs = Math.floor(abs % 60);
    if (seconds < 0) {
      return (days ? plural(days, "day") : plural(hours, "hour")) + " past deadline";
    }
    // Days and hours as the server says them, then minutes and seconds so it visibly ticks.
    return plural(days, "day") + ", " + plural(hours, "hour") + ", " +
      minutes + " min " + (secs < 10 ? "0" : "") + secs + " s left";
  }

  function tick() {
    var now = Date.now();
    var nodes = document.querySelectorAll(".countdown[data-deadline]");
    for (var i = 0; i < nodes.length; i++) {
      // A deadline day counts in full: the moment is the end of that day, UTC.
      var end = Date.parse(nodes[i].getAttribute("data-deadline") + "T00:00:00Z") + DAY * 1000;
      var text = describe(Math.floor((end - now) / 1000));
      if (nodes[i].textContent !== text) { nodes[i].textContent = text; }
    }
  }

  tick();
  window.setInterval(tick, 1000);
})();
