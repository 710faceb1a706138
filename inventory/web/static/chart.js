// A storage unit's temperatures with uPlot: raw readings, or each bucket's lowest and highest
// reading as a band (never an average); the allowed range shaded, excursions marked red;
// times on the axis in Danish time. The page's table gives the same figures in words.
(function () {
  "use strict";
  var ZONE = "Europe/Copenhagen";

  function axisValues(lang) {
    var dm = lang === "da" ? "{D}.{M}." : "{D}/{M}";
    var dmy = lang === "da" ? "{D}.{M}.{YYYY}" : "{D}/{M}/{YYYY}";
    // [tick step (s), format, on a new year, new month, new day, ...] as uPlot reads it
    return [
      [3600 * 24 * 365, "{YYYY}", null, null, null, null, null, null, 1],
      [3600 * 24 * 28, "{MMM}", "\n{YYYY}", null, null, null, null, null, 1],
      [3600 * 24, dm, "\n{YYYY}", null, null, null, null, null, 1],
      [3600, "{HH}:{mm}", "\n" + dmy, null, "\n" + dm, null, null, null, 1],
      [60, "{HH}:{mm}", "\n" + dmy, null, "\n" + dm, null, null, null, 1],
      [1, "{HH}:{mm}:{ss}", "\n" + dmy, null, "\n" + dm, null, null, null, 1]
    ];
  }

  function legendTime(lang) {
    var format = new Intl.DateTimeFormat(lang === "da" ? "da-DK" : "en-GB", {
      timeZone: ZONE, day: "numeric", month: "numeric", year: "numeric",
      hour: "2-digit", minute: "2-digit"
    });
    return function (u, ts) { return ts == null ? "–" : format.format(new Date(ts * 1000)); };
  }

  function degrees(lang) {
    var format = new Intl.NumberFormat(lang === "da" ? "da-DK" : "en-GB", {
      minimumFractionDigits: 1, maximumFractionDigits: 1
    });
    return function (u, v) { return v == null ? "–" : format.format(v) + " °C"; };
  }

  function shade(data) {
    // drawn under the series: the allowed range, then the excursions over the full height
    return function (u) {
      var ctx = u.ctx, box = u.bbox;
      ctx.save();
      var top = u.valToPos(data.allowed[1], "y", true);
      var bottom = u.valToPos(data.allowed[0], "y", true);
      ctx.fillStyle = "rgba(27, 94, 32, 0.13)";
      ctx.fillRect(box.left, top, box.width, bottom - top);
      ctx.fillStyle = "rgba(161, 15, 15, 0.16)";
      data.excursions.forEach(function (e) {
        var x0 = Math.max(box.left, u.valToPos(e.start, "x", true));
        var end = e.end == null ? u.scales.x.max : e.end;
        var x1 = Math.min(box.left + box.width, u.valToPos(end, "x", true));
        if (x1 > x0) ctx.fillRect(x0, box.top, Math.max(2, x1 - x0), box.height);
      });
      ctx.restore();
    };
  }

  function options(el, data, width) {
    var lang = el.dataset.lang || "da";
    var raw = data.resolution === "raw";
    var value = degrees(lang);
    var series = [{ label: el.dataset.labelTime, value: legendTime(lang) }];
    if (raw) {
      series.push({ label: el.dataset.labelReading, stroke: "#0b4f8a", width: 2, value: value,
                    points: { show: data.x.length < 200 } });
    } else {
      series.push({ label: el.dataset.labelLow, stroke: "#0b4f8a", width: 1, value: value });
      series.push({ label: el.dataset.labelHigh, stroke: "#a10f0f", width: 1, value: value });
    }
    return {
      width: width,
      height: 320,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), ZONE); },
      series: series,
      bands: raw ? [] : [{ series: [2, 1], fill: "rgba(11, 79, 138, 0.25)" }],
      scales: {
        x: { time: true, range: [Date.parse(data.from) / 1000, Date.parse(data.to) / 1000] },
        y: {
          range: function (u, min, max) {
            var lo = Math.min(min == null ? data.allowed[0] : min, data.allowed[0]);
            var hi = Math.max(max == null ? data.allowed[1] : max, data.allowed[1]);
            return [Math.floor(lo - 1), Math.ceil(hi + 1)];
          }
        }
      },
      axes: [
        { values: axisValues(lang), label: el.dataset.labelTime, stroke: "#1a1a1a" },
        { label: el.dataset.labelTemp, stroke: "#1a1a1a",
          values: function (u, ticks) { return ticks.map(function (t) { return t.toLocaleString(lang); }); } }
      ],
      hooks: { drawClear: [shade(data)] }
    };
  }

  function draw(el) {
    fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("chart data: " + response.status);
        return response.json();
      })
      .then(function (data) {
        var columns = data.resolution === "raw" ? [data.x, data.c] : [data.x, data.low, data.high];
        var width = function () { return Math.max(280, el.clientWidth); };
        var plot = new uPlot(options(el, data, width()), columns, el);
        el.setAttribute("data-drawn", data.resolution);
        window.addEventListener("resize", function () {
          plot.setSize({ width: width(), height: 320 });
        });
      })
      .catch(function (error) {
        el.textContent = el.dataset.labelFailed || String(error);
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(draw);
  });
})();
