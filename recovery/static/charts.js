/* Draws the dashboard's charts with Apache ECharts (vendored: /static/vendor/echarts, see VENDORED.md).
   Each chart is an element with a data-spec attribute: {kind, categories, series: [{name, values, texts,
   colour?, stack?}], axis: {unit, divisor, name, max?}, title, colours}. The numbers and their texts come
   from the server; this file only draws them. No inline script, no inline style attribute: the page's
   content policy is self-only, so tooltips are drawn by ECharts itself (richText), not as HTML. */
(function () {
  'use strict';
  var zh = document.documentElement.lang.indexOf('zh') === 0;
  var grouping = new Intl.NumberFormat(zh ? 'zh-CN' : 'en', {maximumFractionDigits: 1});

  function axisLabel(axis) {
    return function (value) {
      var text = grouping.format(value / axis.divisor);
      return axis.unit === 'percent' ? text + '%' : text;
    };
  }

  function tooltip(spec) {
    return function (params) {
      var lines = [params[0].axisValueLabel];
      params.forEach(function (p) {
        var s = spec.series[p.seriesIndex];
        lines.push(s.name + ': ' + s.texts[p.dataIndex]);
      });
      return lines.join('\n');
    };
  }

  function option(spec, narrow) {
    var bar = spec.kind === 'bar';
    return {
      animation: false,
      color: spec.colours,
      aria: {enabled: true, label: {description: spec.title}},
      legend: {show: spec.series.length > 1 || !bar, top: 0, type: 'scroll'},
      tooltip: {trigger: 'axis', renderMode: 'richText', formatter: tooltip(spec),
                axisPointer: {type: bar ? 'shadow' : 'line'}},
      grid: {left: 8, right: 16, top: spec.series.length > 1 || !bar ? 48 : 32, bottom: 8, containLabel: true},
      xAxis: {type: 'category', data: spec.categories, boundaryGap: bar,
              axisLabel: {hideOverlap: true, interval: bar ? 0 : 'auto',
                          // Every bar keeps its label: slanted when the bars are too many for the width.
                          rotate: bar && spec.categories.length > (narrow ? 6 : 8) ? 40 : 0}},
      // A percentage axis reaches 100 at least, and further when a month collected more than fell due.
      // A loss rate may fall below 0 (more billed than delivered): its axis says so with min null (automatic).
      yAxis: {type: 'value', name: spec.axis.name, min: spec.axis.min === undefined ? 0 : spec.axis.min,
              max: spec.axis.max ? function (v) { return Math.max(spec.axis.max, Math.ceil(v.max / 20) * 20); }
                                 : null,
              minInterval: spec.axis.unit === 'count' ? 1 : null,
              nameTextStyle: {align: 'left'}, axisLabel: {formatter: axisLabel(spec.axis)}},
      series: spec.series.map(function (s) {
        return {name: s.name, type: spec.kind, data: s.values, stack: s.stack,
                itemStyle: s.colour ? {color: s.colour} : undefined,
                barMaxWidth: 48, connectNulls: false, symbolSize: 6, lineStyle: {width: 2}};
      })
    };
  }

  function draw(el) {
    var spec = JSON.parse(el.getAttribute('data-spec'));
    var chart = echarts.init(el, null, {renderer: 'svg', locale: zh ? 'ZH' : 'EN'});
    chart.setOption(option(spec, el.clientWidth < 480));
    el.setAttribute('data-drawn', 'true');
    window.addEventListener('resize', function () {
      chart.setOption(option(spec, el.clientWidth < 480));
      chart.resize();
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll('[data-spec]'), draw);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
