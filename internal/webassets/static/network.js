// The explorer's network page: charts of the data the server embedded in
// <script id="chart-data"> (the tables beside them show the same without
// JavaScript), drawn with the vendored uPlot. New tips extend the
// difficulty chart as they arrive.
(function () {
  'use strict';
  var el = document.getElementById('chart-data');
  if (!el || !window.uPlot) {
    return;
  }
  var d = JSON.parse(el.textContent);
  function width(id) {
    return Math.max(300, document.getElementById(id).clientWidth - 30);
  }
  var diff = new uPlot({
    width: width('difficulty-chart'),
    height: 260,
    series: [
      {},
      { label: 'difficulty', stroke: '#8a5a2b', width: 1.5 },
    ],
    axes: [{}, { size: 80, values: function (u, vals) { return vals.map(function (v) { return v == null ? '' : Number(v.toPrecision(3)).toString(); }); } }],
  }, [d.times.slice(), d.difficulty.slice()], document.getElementById('difficulty-chart'));

  var bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.8] }) : undefined;
  new uPlot({
    width: width('interval-chart'),
    height: 260,
    scales: { x: { time: false } },
    series: [
      { label: 'interval (s)' },
      { label: 'observed', stroke: '#8a5a2b', fill: 'rgba(138,90,43,0.35)', paths: bars },
      { label: 'expected (exponential)', stroke: '#2f7d4a', width: 2 },
    ],
    axes: [{ label: 'seconds' }, { label: 'blocks' }],
  }, [d.binMids, d.observed, d.expected], document.getElementById('interval-chart'));

  document.addEventListener('cairn:tip', function (ev) {
    var t = ev.detail;
    if (!t || !t.time) {
      return;
    }
    var times = diff.data[0].slice(), values = diff.data[1].slice();
    if (times.length && t.time <= times[times.length - 1] && t.height <= d.heights[d.heights.length - 1]) {
      return;
    }
    times.push(t.time);
    values.push(t.difficulty);
    d.heights.push(t.height);
    diff.setData([times, values]);
  });
})();
