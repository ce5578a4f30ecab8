// Ticks the countdowns the server rendered. It never decides a status: that is the model's.
(function () {
  "use strict";
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function describe(seconds) {
    var abs = Math.abs(seconds);
    var days = Math.floor(abs / 86400);
    var hours = Math.floor((abs % 86400) / 3600);
    var minutes = Math.floor((abs % 3600) / 60);
    var secs = Math.floor(abs % 60);
    if (seconds < 0) {
      return (days ? plural(days, "day") : plural(hours, "hour")) + " past deadline";
    }
    return plural(days, "day") + ", " + plural(hours, "hour") + ", " +
      plural(minutes, "minute") + ", " + plural(secs, "second") + " left";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      // The deadline day counts in full: the moment is the end of that day, UTC.
      var end = Date.parse(el.getAttribute("data-deadline") + "T00:00:00Z") + 86400000;
      el.textContent = describe(Math.round((end - now) / 1000));
    });
  }
  tick();
  window.setInterval(tick, 1000);
})();
