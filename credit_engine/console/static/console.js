/* credit-engine console: our own script. Progressive: every page works without
   it (links and forms); with it, htmx sends the CSRF token on partial updates and
   the charts are drawn with ECharts from the JSON blocks the server rendered. */
(function () {
  "use strict";

  var csrf = document.querySelector('meta[name="csrf-token"]');
  document.addEventListener("htmx:configRequest", function (event) {
    if (csrf) { event.detail.headers["X-CSRF-Token"] = csrf.content; }
  });

  var TIERS = ["A", "B", "C", "D"];
  var TIER_COLOURS = { A: "#1a7f37", B: "#0b5cad", C: "#9a5b00", D: "#c01c28" };
  var LAYER_COLOURS = { STATUTORY: "#6639ba", OVERRIDE: "#b5006a", POLICY: "#0b5cad", MODEL: "#57606a" };
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function base(labels) {
    return {
      animation: !still,
      aria: { enabled: true },
      textStyle: { fontFamily: "inherit", fontSize: 13, color: "#1f2328" },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 56, right: 56, top: 40, bottom: 36 }
    };
  }

  var charts = {
    tiers: function (d, labels) {
      var o = base(labels);
      o.xAxis = { type: "category", data: d.dates };
      o.yAxis = { type: "value", name: labels.enterprises };
      o.series = TIERS.map(function (t) {
        return { name: labels.tiers[t], type: "bar", stack: "tiers", data: d.tiers[t],
                 itemStyle: { color: TIER_COLOURS[t] } };
      });
      return o;
    },
    measures: function (d, labels) {
      var o = base(labels);
      o.xAxis = { type: "category", data: d.dates };
      o.yAxis = { type: "value", name: labels.enterprises };
      o.series = [
        { name: labels.green, type: "line", data: d.green, itemStyle: { color: "#1a7f37" }, symbolSize: 8 },
        { name: labels.punished, type: "line", data: d.punished, itemStyle: { color: "#c01c28" }, symbol: "diamond", symbolSize: 9 }
      ];
      return o;
    },
    layers: function (d, labels) {
      var o = base(labels);
      o.xAxis = { type: "category", data: d.dates };
      o.yAxis = { type: "value", name: labels.enterprises };
      o.series = Object.keys(d.layers).map(function (k) {
        return { name: labels.layers[k] || k, type: "bar", stack: "layers", data: d.layers[k],
                 itemStyle: { color: LAYER_COLOURS[k] || "#57606a" } };
      });
      return o;
    },
    migration: function (d, labels) {
      var m = d.migration;
      var cells = [];
      var top = 0;
      m.rows.forEach(function (r, i) {
        m.columns.forEach(function (c, j) {
          cells.push([j, i, m.cells[i][j]]);
          top = Math.max(top, m.cells[i][j]);
        });
      });
      var name = function (v) { return labels.migration[v] || v; };
      return {
        animation: !still, aria: { enabled: true },
        textStyle: { fontFamily: "inherit", fontSize: 13, color: "#1f2328" },
        tooltip: { position: "top", formatter: function (p) {
          return name(m.rows[p.value[1]]) + " → " + name(m.columns[p.value[0]]) + ": " + p.value[2].toLocaleString();
        } },
        grid: { left: 64, right: 24, top: 24, bottom: 80 },
        xAxis: { type: "category", data: m.columns.map(name), name: labels.to, nameLocation: "middle", nameGap: 28, splitArea: { show: true } },
        yAxis: { type: "category", data: m.rows.map(name), name: labels.from, inverse: true, splitArea: { show: true } },
        visualMap: { min: 0, max: top || 1, calculable: true, orient: "horizontal", left: "center", bottom: 0,
                     inRange: { color: ["#f6f8fa", "#9ec5fe", "#0b5cad", "#052c65"] } },
        series: [{ type: "heatmap", data: cells, label: { show: true, formatter: function (p) { return p.value[2].toLocaleString(); } },
                   emphasis: { itemStyle: { borderColor: "#1f2328", borderWidth: 1 } } }]
      };
    },
    history: function (d, labels) {
      var h = d.history;
      var o = base(labels);
      o.xAxis = { type: "category", data: h.map(function (r) { return r.as_of; }) };
      o.yAxis = [{ type: "category", data: TIERS, inverse: true, name: labels.tier }];
      o.series = [{ name: labels.tier, type: "line", step: "middle", symbolSize: 10,
                    data: h.map(function (r) { return r.tier; }), itemStyle: { color: "#0b5cad" } }];
      if (h.length && h[0].pd !== undefined) {
        o.yAxis.push({ type: "value", name: labels.pd, axisLabel: { formatter: function (v) { return (v * 100).toFixed(v < 0.01 ? 2 : 1) + "%"; } } });
        o.series.push({ name: labels.pd, type: "line", yAxisIndex: 1, symbol: "diamond", symbolSize: 8,
                        data: h.map(function (r) { return r.pd; }), itemStyle: { color: "#9a5b00" } });
      }
      return o;
    },
    facts: function (d, labels) {
      var facts = d.facts;
      var end = d.as_of;
      var names = facts.map(function (f) { return f.code; });
      var lang = labels.lang;
      return {
        animation: !still, aria: { enabled: true },
        textStyle: { fontFamily: "inherit", fontSize: 13, color: "#1f2328" },
        tooltip: { formatter: function (p) {
          var f = facts[p.value[0]];
          return f.code + " · " + (f[lang] || "") + "<br>" + f.since + " → " + (f.until || labels.open);
        } },
        grid: { left: 16, right: 24, top: 16, bottom: 36, containLabel: true },
        xAxis: { type: "time" },
        yAxis: { type: "category", data: names, inverse: true },
        series: [{
          type: "custom",
          renderItem: function (params, api) {
            var y = api.value(0);
            var start = api.coord([api.value(1), y]);
            var stop = api.coord([api.value(2), y]);
            var height = api.size([0, 1])[1] * 0.5;
            return { type: "rect", shape: { x: start[0], y: start[1] - height / 2, width: Math.max(stop[0] - start[0], 3), height: height },
                     style: { fill: facts[y].favourable ? "#1a7f37" : "#c01c28" } };
          },
          encode: { x: [1, 2], y: 0 },
          data: facts.map(function (f, i) { return [i, f.since, f.until && f.until < end ? f.until : end]; })
        }]
      };
    }
  };

  function draw() {
    if (!window.echarts) { return; }
    var labels = data("chart-labels") || {};
    document.querySelectorAll("[data-chart]").forEach(function (node) {
      if (node.dataset.drawn) { return; }
      var source = data(node.dataset.source);
      var make = charts[node.dataset.chart];
      if (!source || !make) { return; }
      var chart = window.echarts.init(node, null, { renderer: "svg" });
      chart.setOption(make(source, labels));
      node.dataset.drawn = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
    document.documentElement.dataset.chartsReady = "1";
  }

  /* A part of the zone overview still being counted in the background: ask
     the server every few seconds, reload the page when it is ready. */
  function waitForOverview() {
    var node = document.querySelector("[data-overview-status]");
    if (!node || !window.fetch) { return; }
    var url = node.getAttribute("data-overview-status");
    var tries = 0;
    function ask() {
      tries += 1;
      window.fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (body && body.ready) { window.location.reload(); }
          else if (tries < 600) { window.setTimeout(ask, 2000); }
        })
        .catch(function () { if (tries < 600) { window.setTimeout(ask, 5000); } });
    }
    window.setTimeout(ask, 1000);
  }

  function start() { draw(); waitForOverview(); }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  document.addEventListener("htmx:afterSettle", draw);
})();
