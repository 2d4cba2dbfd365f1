/*
 * Dashboard behaviour (CSP-safe: no inline code, Alpine CSP build, Chart.js).
 *
 * The HTMX cycle: the filter form posts to /dashboard/apply with hx-target="#staging"; the
 * response (one partial per widget) lands in the hidden #staging element and applyResult()
 * patches the live grid keyed by widget id. Chart cards keep their <canvas> node: only the
 * head, the overlay and the JSON data are replaced and the chart is redrawn with update().
 * Filter state lives in the URL (pushState); the back button reloads the previous state.
 *
 * Widget shapes with client-side drawing register in RENDERERS (keyed by the card's
 * data-shape); chart types in CHART_TYPES (keyed by Chart.js type). A shape without a
 * renderer is server-rendered HTML and is simply swapped.
 */
(function () {
  "use strict";

  var PALETTE = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4",
                 "#84cc16", "#f97316", "#ec4899", "#64748b"];
  var REFRESH_KEY = "camet.autorefresh.minutes";
  var autoRefreshRun = false;

  function locale() {
    return document.documentElement.lang || "es";
  }

  function fmt(value) {
    return new Intl.NumberFormat(locale(), { maximumFractionDigits: 2 }).format(value);
  }

  function alpha(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + a + ")";
  }

  function styleRound(out, dataset) {
    out.backgroundColor = dataset.data.map(function (_, j) { return PALETTE[j % PALETTE.length]; });
    out.borderColor = "#ffffff";
    out.borderWidth = 2;
    out.hoverOffset = 6;
  }

  function styleBar(out, dataset, color, count) {
    out.backgroundColor = count > 1 ? color : dataset.data.map(function (_, j) {
      return PALETTE[j % PALETTE.length];
    });
    out.borderRadius = 6;
    out.maxBarThickness = 56;
  }

  function styleLine(out, dataset, color, count, points) {
    out.borderColor = color;
    out.backgroundColor = alpha(color, 0.12);
    out.fill = count === 1;
    out.tension = 0.3;
    out.borderWidth = 2;
    out.pointRadius = points > 36 ? 0 : 3;
    out.pointHoverRadius = 4;
  }

  // Chart.js type → how its datasets look and which axes it gets (unknown types draw as lines).
  var CHART_TYPES = {
    doughnut: { style: styleRound, round: true },
    pie: { style: styleRound, round: true },
    bar: { style: styleBar, categories: true },
    line: { style: styleLine, rateAxis: true }
  };

  function chartType(name) {
    return CHART_TYPES[name] || { style: styleLine };
  }

  function styleDataset(type, dataset, index, count, points) {
    var color = PALETTE[index % PALETTE.length];
    var out = { label: dataset.label, data: dataset.data };
    if (dataset.type) {  // a dataset of another type over the chart (e.g. a Pareto's cumulative %)
      out.type = dataset.type;
      chartType(dataset.type).style(out, dataset, color, count, points);
      out.fill = false;
    } else {
      chartType(type).style(out, dataset, color, count, points);
    }
    if (dataset.yAxisID) { out.yAxisID = dataset.yAxisID; }
    return out;
  }

  function hasPercentAxis(body) {
    return (body.data.datasets || []).some(function (d) { return d.yAxisID === "pct"; });
  }

  function chartOptions(body) {
    var kind = chartType(body.type);
    var round = !!kind.round;
    var many = (body.data.datasets || []).length > 1;
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: { duration: 450 },
      interaction: { mode: round ? "nearest" : "index", intersect: round },
      plugins: {
        legend: { display: round || many, position: round ? "right" : "bottom",
                  labels: { boxWidth: 10, boxHeight: 10, usePointStyle: true, padding: 14 } },
        tooltip: { callbacks: { label: function (ctx) {
          var v = ctx.parsed && typeof ctx.parsed === "object" ? ctx.parsed.y : ctx.parsed;
          return " " + (ctx.dataset.label && !round ? ctx.dataset.label + ": " : (round ? ctx.label + ": " : "")) + fmt(v);
        } } }
      }
    };
    if (!round) {
      var rate = !!kind.rateAxis && !many && body.options && body.options.last !== undefined;
      var categories = !!kind.categories;
      options.scales = {
        x: { grid: { display: false }, ticks: {
          maxRotation: 0, autoSkip: !categories, maxTicksLimit: categories ? undefined : 8, color: "#64748b",
          callback: function (value) {
            var label = this.getLabelForValue(value);
            return categories && this.chart.width < 560 ? String(label).split(" · ")[0] : label;
          } } },
        y: { beginAtZero: !rate, grid: { color: "#eef2f7" }, border: { display: false },
             ticks: { color: "#64748b", callback: function (v) { return fmt(v); } } }
      };
      if (hasPercentAxis(body)) {
        options.scales.pct = { position: "right", min: 0, max: 100, grid: { display: false },
                               border: { display: false },
                               ticks: { color: "#64748b", callback: function (v) { return fmt(v) + " %"; } } };
      }
    } else {
      options.cutout = "62%";
    }
    if (body.drill) {
      options.onClick = function (event, elements, chart) {
        var drills = readData(chart.canvas.closest(".card")).drill || [];
        if (elements.length && drills[elements[0].index]) { drillTo(drills[elements[0].index]); }
      };
      options.onHover = function (event, elements) {
        event.native.target.style.cursor = elements.length ? "pointer" : "";
      };
    }
    return options;
  }

  // Drill-down: a widget's `drill` entry ({dimension: value}, e.g. {line: "L2"} or {day, shift})
  // becomes the filters of the page's #drill-filters map; the new state is a new URL, so the
  // back button returns to the previous selection.
  function drillTo(target) {
    var map;
    try {
      map = JSON.parse(document.getElementById("drill-filters").textContent || "{}");
    } catch (e) {
      return;
    }
    var grid = document.getElementById("widget-grid");
    var params = new URLSearchParams(grid ? grid.dataset.query || "" : location.search.slice(1));
    var changed = false;
    Object.keys(target).forEach(function (dimension) {
      var filter = map[dimension];
      if (!filter) { return; }
      var raw = target[dimension];
      var value = Object.prototype.hasOwnProperty.call(filter.codes || {}, raw) ? filter.codes[raw] : raw;
      if (filter.type === "date_range") {
        params.set(filter.param, filter.custom);
        params.set(filter.param + ".start", value);
        params.set(filter.param + ".end", value);
      } else {
        params.delete(filter.param);
        params.append(filter.param, String(value));
      }
      changed = true;
    });
    if (changed) { location.assign(location.pathname + "?" + params.toString()); }
  }

  function drillRow(row) {
    try {
      drillTo(JSON.parse(row.getAttribute("data-drill")));
    } catch (e) { /* a malformed entry does nothing */ }
  }

  document.addEventListener("click", function (event) {
    var row = event.target.closest ? event.target.closest("tr.is-drillable[data-drill]") : null;
    if (row) { drillRow(row); }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") { return; }
    var row = event.target.closest ? event.target.closest("tr.is-drillable[data-drill]") : null;
    if (row) { drillRow(row); }
  });

  function readData(card) {
    var holder = card.querySelector("script.chart-data");
    try {
      return holder ? JSON.parse(holder.textContent || "{}") : {};
    } catch (e) {
      return {};
    }
  }

  function renderChart(card) {
    var canvas = card.querySelector("canvas.chart");
    if (!canvas || typeof Chart === "undefined") { return; }
    var body = readData(card);
    var chart = Chart.getChart(canvas);
    if (!body.type || !body.data) {
      if (chart) {
        chart.data.labels = [];
        chart.data.datasets = [];
        chart.update();
      }
      return;
    }
    var sets = body.data.datasets || [];
    var points = (body.data.labels || []).length;
    var styled = sets.map(function (d, i) { return styleDataset(body.type, d, i, sets.length, points); });
    if (chart && chart.config.type !== body.type) {
      chart.destroy();
      chart = null;
    }
    if (!chart) {
      new Chart(canvas, { type: body.type, data: { labels: body.data.labels, datasets: styled },
                          options: chartOptions(body) });
      return;
    }
    chart.data.labels = body.data.labels;
    styled.forEach(function (d, i) {
      if (chart.data.datasets[i]) { Object.assign(chart.data.datasets[i], d); } else { chart.data.datasets.push(d); }
    });
    chart.data.datasets.length = styled.length;
    chart.options = chartOptions(body);
    chart.update();
  }

  function swapPart(live, incoming, selector) {
    var a = live.querySelector(selector);
    var b = incoming.querySelector(selector);
    if (a && b) { a.replaceWith(b); }
  }

  function patchChart(live, incoming) {
    live.className = incoming.className;
    live.dataset.state = incoming.dataset.state;
    live.dataset.class = incoming.dataset.class;
    swapPart(live, incoming, ".card__head");
    swapPart(live, incoming, ".card__overlay");
    swapPart(live, incoming, "script.chart-data");
  }

  function disposeChart(card) {
    var canvas = card.querySelector("canvas.chart");
    if (canvas && typeof Chart !== "undefined" && Chart.getChart(canvas)) { Chart.getChart(canvas).destroy(); }
  }

  // Timeline (Gantt): floating bars per line on a time axis. Times are plant wall time sent
  // without offset; they are read as UTC and printed with UTC getters, so the browser's own
  // timezone never shifts them. The wheel zooms around the pointer, a double click resets.
  var TIMELINE_COLORS = { run: "#10b981", micro: "#f59e0b", stop: "#ef4444", "break": "#cbd5e1" };

  function wallMs(iso) { return Date.parse(iso + "Z"); }

  function two(n) { return (n < 10 ? "0" : "") + n; }

  function wallLabel(ms, withDay) {
    var d = new Date(ms);
    var hm = two(d.getUTCHours()) + ":" + two(d.getUTCMinutes());
    return withDay ? two(d.getUTCDate()) + "/" + two(d.getUTCMonth() + 1) + " " + hm : hm;
  }

  function timelineDatasets(body) {
    var names = {};
    body.lanes.forEach(function (lane) { names[lane.key] = lane.name; });
    return body.kinds.map(function (kind) {
      return {
        label: kind.label, backgroundColor: TIMELINE_COLORS[kind.key] || "#64748b", grouped: false,
        borderSkipped: false, barPercentage: kind.key === "break" ? 0.95 : 0.7, categoryPercentage: 1,
        data: body.periods.filter(function (p) { return p.kind === kind.key; }).map(function (p) {
          return { x: [wallMs(p.start), wallMs(p.end)], y: names[p.lane] };
        })
      };
    });
  }

  function zoomTimeline(chart, event) {
    event.preventDefault();
    var scale = chart.scales.x;
    var limits = chart.$camet;
    var at = scale.getValueForPixel(event.offsetX);
    var factor = event.deltaY < 0 ? 0.8 : 1.25;
    var min = Math.max(limits.min, at - (at - scale.min) * factor);
    var max = Math.min(limits.max, at + (scale.max - at) * factor);
    if (max - min < 15 * 60000) { return; }  // no closer than a quarter of an hour
    chart.options.scales.x.min = min;
    chart.options.scales.x.max = max;
    chart.update("none");
  }

  function renderTimeline(card) {
    var canvas = card.querySelector("canvas.chart");
    if (!canvas || typeof Chart === "undefined") { return; }
    var body = readData(card);
    var old = Chart.getChart(canvas);
    if (old) { old.destroy(); }
    if (!body.periods) { return; }
    var lo = wallMs(body.start);
    var hi = wallMs(body.end);
    var chart = new Chart(canvas, {
      type: "bar",
      data: { labels: body.lanes.map(function (l) { return l.name; }), datasets: timelineDatasets(body) },
      options: {
        indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false,
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 10, boxHeight: 10, padding: 12 } },
          tooltip: { callbacks: { label: function (ctx) {
            return " " + ctx.dataset.label + ": " + wallLabel(ctx.raw.x[0], true) + " – " + wallLabel(ctx.raw.x[1], true);
          } } }
        },
        scales: {
          x: { type: "linear", min: lo, max: hi, grid: { color: "#eef2f7" },
               ticks: { color: "#64748b", maxTicksLimit: 8, callback: function (v) {
                 var span = this.chart.scales.x.max - this.chart.scales.x.min;
                 return wallLabel(v, span > 86400000);
               } } },
          y: { grid: { display: false }, ticks: { color: "#334155" } }
        }
      }
    });
    chart.$camet = { min: lo, max: hi };
    if (!canvas.dataset.zoom) {
      canvas.dataset.zoom = "1";
      canvas.addEventListener("wheel", function (event) {
        var live = Chart.getChart(canvas);
        if (live && live.$camet) { zoomTimeline(live, event); }
      }, { passive: false });
      canvas.addEventListener("dblclick", function () {
        var live = Chart.getChart(canvas);
        if (!live || !live.$camet) { return; }
        live.options.scales.x.min = live.$camet.min;
        live.options.scales.x.max = live.$camet.max;
        live.update("none");
      });
    }
  }

  // data-shape → client-side behaviour: `patch` keeps the live node (and its canvas) in place,
  // `render` draws it, `dispose` frees it before the node leaves the page.
  var RENDERERS = {
    chart: { patch: patchChart, render: renderChart, dispose: disposeChart },
    timeline: { patch: patchChart, render: renderTimeline, dispose: disposeChart }
  };

  function rendererOf(card) {
    return RENDERERS[card.dataset.shape] || {};
  }

  function patchGrid(grid, cards) {
    var keep = new Set();
    var previous = null;
    cards.forEach(function (incoming) {
      var live = document.getElementById(incoming.id);
      var node = incoming;
      var renderer = rendererOf(incoming);
      if (live && live.parentNode === grid && renderer.patch && live.dataset.shape === incoming.dataset.shape) {
        renderer.patch(live, incoming);
        node = live;
      } else if (live && live.parentNode === grid) {
        if (rendererOf(live).dispose) { rendererOf(live).dispose(live); }
        live.replaceWith(incoming);
      }
      var expected = previous ? previous.nextElementSibling : grid.firstElementChild;
      if (node !== expected) { grid.insertBefore(node, expected); }
      previous = node;
      keep.add(node);
      if (renderer.render) { renderer.render(node); }
    });
    Array.prototype.slice.call(grid.children).forEach(function (child) {
      if (keep.has(child)) { return; }
      if (rendererOf(child).dispose) { rendererOf(child).dispose(child); }
      child.remove();
    });
  }

  function showFieldErrors(result) {
    document.querySelectorAll("[data-error-for]").forEach(function (el) { el.textContent = ""; });
    document.querySelectorAll(".filter.is-invalid").forEach(function (el) { el.classList.remove("is-invalid"); });
    result.querySelectorAll("[data-slot=field-errors] [data-field]").forEach(function (p) {
      var field = p.getAttribute("data-field");
      var slot = document.querySelector('[data-error-for="' + CSS.escape(field) + '"]');
      if (slot) {
        slot.textContent = p.textContent;
        slot.closest(".filter").classList.add("is-invalid");
      }
    });
  }

  // Links that carry the dashboard's filters elsewhere (stops table, exports) follow each run.
  function updateQueryLinks(query) {
    document.querySelectorAll("a[data-keeps-query]").forEach(function (link) {
      var extra = link.getAttribute("data-query-extra");
      var full = [query, extra].filter(Boolean).join("&");
      link.setAttribute("href", link.getAttribute("data-keeps-query") + (full ? "?" + full : ""));
    });
  }

  function updateUrl(query, replace) {
    updateQueryLinks(query);
    var url = location.pathname + (query ? "?" + query : "");
    if (url === location.pathname + location.search) { return; }
    history[replace ? "replaceState" : "pushState"]({ camet: true }, "", url);
  }

  function applyResult(staging) {
    var result = staging.querySelector(".run-result");
    if (!result) { return; }
    var summary = result.querySelector("[data-slot=run-summary]");
    var alertBox = result.querySelector("[data-slot=run-alert]");
    if (summary) { document.getElementById("run-summary").innerHTML = summary.innerHTML; }
    if (alertBox) { document.getElementById("run-alert").innerHTML = alertBox.innerHTML; }
    showFieldErrors(result);
    var widgets = result.querySelector("[data-slot=widgets]");
    if (result.dataset.status === "ok" && widgets) {
      var grid = document.getElementById("widget-grid");
      patchGrid(grid, Array.prototype.slice.call(widgets.querySelectorAll(":scope > .card")));
      grid.dataset.query = result.dataset.query || "";
      updateUrl(result.dataset.query || "", autoRefreshRun);
    }
    autoRefreshRun = false;
    staging.innerHTML = "";
    document.dispatchEvent(new CustomEvent("camet:applied", { detail: { status: result.dataset.status } }));
  }

  function normalize(text) {
    return (text || "").toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail && event.detail.target && event.detail.target.id === "staging") {
      applyResult(event.detail.target);
    }
  });

  window.addEventListener("popstate", function () { location.reload(); });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#widget-grid > .card").forEach(function (card) {
      if (rendererOf(card).render) { rendererOf(card).render(card); }
    });
  });

  document.addEventListener("alpine:init", function () {
    var Alpine = window.Alpine;

    Alpine.data("dashboard", function () {
      return {
        filtersOpen: false,
        get panelClass() { return this.filtersOpen ? "filters-open" : ""; },
        toggleFilters: function () { this.filtersOpen = !this.filtersOpen; }
      };
    });

    Alpine.data("filterPanel", function () {
      return {
        timer: null,
        init: function () {
          var select = this.$root.querySelector("[data-role=autorefresh]");
          var stored = window.localStorage.getItem(REFRESH_KEY) || "0";
          if (select) { select.value = stored; }
          this.schedule();
        },
        presetChanged: function (event) {
          var fieldset = event.target.closest("fieldset");
          var custom = event.target.value === event.target.dataset.custom;
          var dates = fieldset.querySelector("[data-role=custom-dates]");
          var hint = fieldset.querySelector("[data-role=range-hint]");
          if (dates) { dates.hidden = !custom; }
          if (hint) { hint.hidden = custom; }
        },
        autoRefreshChanged: function (event) {
          window.localStorage.setItem(REFRESH_KEY, event.target.value);
          this.schedule();
        },
        schedule: function () {
          var form = this.$root;
          var select = form.querySelector("[data-role=autorefresh]");
          var minutes = select ? Number(select.value) : 0;
          if (this.timer) { window.clearInterval(this.timer); this.timer = null; }
          if (minutes > 0) {
            this.timer = window.setInterval(function () {
              if (document.hidden) { return; }
              autoRefreshRun = true;
              window.htmx.trigger(form, "submit");
            }, minutes * 60000);
          }
        }
      };
    });

    Alpine.data("multiSelect", function () {
      return {
        open: false,
        init: function () {
          var self = this;
          this.$nextTick(function () { self.announce(); });
        },
        toggle: function () {
          this.open = !this.open;
          var search = this.$root.querySelector("[data-role=search]");
          if (this.open && search) { this.$nextTick(function () { search.focus(); }); }
        },
        close: function () { this.open = false; },
        boxes: function () {
          return Array.prototype.slice.call(this.$root.querySelectorAll("input[type=checkbox]"));
        },
        search: function (event) {
          var q = normalize(event.target.value.trim());
          this.$root.querySelectorAll(".ms__option").forEach(function (li) {
            li.classList.toggle("is-filtered", q !== "" && normalize(li.dataset.search).indexOf(q) < 0);
          });
        },
        changed: function () {
          this.summarize();
          this.announce();
        },
        clearAll: function () {
          this.boxes().forEach(function (b) { b.checked = false; });
          this.changed();
        },
        summarize: function () {
          var checked = this.boxes().filter(function (b) { return b.checked; });
          var text = this.$root.dataset.allLabel;
          if (checked.length === 1) {
            text = checked[0].closest("label").querySelector("span").textContent;
          } else if (checked.length > 1) {
            text = checked.length + " " + this.$root.dataset.manyLabel;
          }
          this.$root.querySelector("[data-role=summary]").textContent = text;
        },
        announce: function () {
          var lines = [];
          this.boxes().forEach(function (b) {
            if (!b.checked) { return; }
            var ids = b.closest(".ms__option").dataset.lineIds;
            lines = lines.concat(ids ? ids.split(",") : [b.value]);
          });
          this.$dispatch("filter-changed", { param: this.$root.dataset.param, lineIds: lines });
        },
        dependencyChanged: function (event) {
          if (!event.detail || event.detail.param !== this.$root.dataset.dependsOn) { return; }
          var lines = new Set(event.detail.lineIds);
          this.$root.querySelectorAll(".ms__option").forEach(function (li) {
            var ids = li.dataset.lineIds ? li.dataset.lineIds.split(",") : [];
            var off = lines.size > 0 && !ids.some(function (id) { return lines.has(id); });
            li.hidden = off;
            if (off) { li.querySelector("input").checked = false; }
          });
          this.summarize();
        }
      };
    });
  });
})();
