// The map works without this: markers open their card on hover, focus or tap (CSS). This only
// lifts the chosen marker above its neighbours so its card is never hidden behind them, and
// closes the card with Escape.
(function () {
  function lift(site) {
    var layer = site.parentNode;
    if (layer.lastElementChild !== site) {
      var focused = document.activeElement === site;
      layer.appendChild(site);
      if (focused) site.focus();
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".dkmap .site").forEach(function (site) {
      site.addEventListener("mouseenter", function () { lift(site); });
      site.addEventListener("focus", function () { lift(site); });
      site.addEventListener("keydown", function (event) {
        if (event.key === "Escape") site.blur();
        if (event.key === "Enter") {
          var target = document.getElementById(site.id.replace(/^m-/, "site-"));
          if (target) target.scrollIntoView({ block: "nearest" });
        }
      });
    });
  });
})();
