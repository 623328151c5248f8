// FundGuard pages: small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function yuan(v) {
    return Number(v || 0).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  // Select-all checkbox for bulk actions; the bulk bar shows how many are selected.
  function bulkSelection() {
    var all = document.querySelector("[data-select-all]");
    var boxes = Array.prototype.slice.call(document.querySelectorAll("input[data-select]"));
    var count = document.querySelector("[data-selected-count]");
    function update() {
      var n = boxes.filter(function (b) { return b.checked; }).length;
      if (count) count.textContent = String(n);
    }
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (b) { b.checked = all.checked; });
        update();
      });
    }
    boxes.forEach(function (b) { b.addEventListener("change", update); });
    update();
  }

  // Forms that ask for confirmation before a decision (data-confirm="…").
  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        if (!window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
      });
    });
    document.querySelectorAll("[data-back]").forEach(function (a) {
      a.addEventListener("click", function (e) {
        if (window.history.length > 1) { e.preventDefault(); window.history.back(); }
      });
    });
  }

  // Charts from <script type="application/json" data-chart> blocks; needs the vendored echarts.
  function charts() {
    var blocks = document.querySelectorAll("script[data-chart]");
    if (!blocks.length) return;
    if (!window.echarts) return; // the page already says charts are unavailable
    blocks.forEach(function (block) {
      var target = document.getElementById(block.getAttribute("data-chart"));
      if (!target) return;
      var spec = JSON.parse(block.textContent);
      var chart = window.echarts.init(target, null, { renderer: "svg" });
      chart.setOption(buildOption(spec));
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  function buildOption(spec) {
    var base = {
      textStyle: { fontFamily: "PingFang SC, Microsoft YaHei, WenQuanYi Zen Hei, sans-serif" },
      tooltip: { trigger: spec.kind === "pie" ? "item" : "axis" },
      grid: { left: 70, right: 60, top: 36, bottom: 40 },
      color: ["#1f4e8c", "#c0392b", "#b9770e", "#1e8449", "#7d3c98", "#2e86c1"],
      animation: false
    };
    if (spec.kind === "trend") {
      base.legend = { top: 0 };
      base.xAxis = { type: "category", data: spec.x };
      base.yAxis = [
        { type: "value", name: "基金支付（万元）", axisLabel: { formatter: function (v) { return (v / 10000).toFixed(0); } } },
        { type: "value", name: "违规金额（元）", splitLine: { show: false } }
      ];
      base.tooltip.valueFormatter = function (v) { return yuan(v) + " 元"; };
      base.series = [
        { name: "基金支付", type: "bar", data: spec.fund, yAxisIndex: 0 },
        { name: "疑点违规金额", type: "line", data: spec.vola, yAxisIndex: 1, smooth: true }
      ];
    } else if (spec.kind === "hbar") {
      base.grid.left = 200;
      base.xAxis = { type: "value", axisLabel: { formatter: function (v) { return v >= 10000 ? (v / 10000) + "万" : v; } } };
      base.yAxis = { type: "category", data: spec.labels.slice().reverse(), axisLabel: { width: 180, overflow: "truncate" } };
      base.tooltip.valueFormatter = function (v) { return yuan(v) + " 元"; };
      base.series = [{ type: "bar", data: spec.values.slice().reverse(), name: spec.name || "违规金额" }];
    } else if (spec.kind === "pie") {
      base.tooltip.valueFormatter = function (v) { return yuan(v) + " 元"; };
      base.legend = { type: "scroll", orient: "vertical", right: 0, top: 10 };
      base.series = [{ type: "pie", radius: ["35%", "65%"], center: ["35%", "55%"], data: spec.data,
                       label: { formatter: "{d}%" } }];
    }
    return base;
  }

  onReady(function () {
    bulkSelection();
    confirmations();
    charts();
  });
})();
