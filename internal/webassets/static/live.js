// Live pages. The page's data arrives server-rendered; this script only
// keeps it fresh. It listens to the Server-Sent Events stream named by
// <body data-events="..."> and, for each element
//
//   <div data-live="/part/..." data-on="tip mempool">
//
// fetches the server-rendered fragment again when one of the named events
// arrives (at most once per 300 ms), then replaces the element's content.
// Every event is also dispatched on document as a "cairn:NAME" CustomEvent
// whose detail is the event's JSON, for page scripts such as charts.
// Without JavaScript the page still shows its data as of its loading.
(function () {
  'use strict';
  var src = document.body.getAttribute('data-events');
  var state = document.getElementById('live-state');
  if (!src || !window.EventSource) {
    return;
  }
  var timers = new Map();
  function eventsOf(el) {
    return (el.getAttribute('data-on') || 'tip').split(/\s+/);
  }
  function refresh(el) {
    if (timers.has(el)) {
      return;
    }
    timers.set(el, setTimeout(function () {
      timers.delete(el);
      fetch(el.getAttribute('data-live'), { headers: { 'Accept': 'text/html' } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(new Error(r.status)); })
        .then(function (html) {
          el.innerHTML = html;
          el.dispatchEvent(new CustomEvent('cairn:updated', { bubbles: true }));
        })
        .catch(function () { /* the next event tries again */ });
    }, 300));
  }
  var names = new Set(['tip', 'reorg', 'mempool', 'peer']);
  document.querySelectorAll('[data-live]').forEach(function (el) {
    eventsOf(el).forEach(function (n) { names.add(n); });
  });
  var es = null;
  function onEvent(name, ev) {
    var detail = null;
    try { detail = JSON.parse(ev.data); } catch (e) { /* keep null */ }
    document.dispatchEvent(new CustomEvent('cairn:' + name, { detail: detail }));
    document.querySelectorAll('[data-live]').forEach(function (el) {
      if (eventsOf(el).indexOf(name) >= 0) {
        refresh(el);
      }
    });
  }
  function open() {
    es = new EventSource(src);
    es.onopen = function () {
      if (state) { state.textContent = 'live'; state.className = 'live on'; }
    };
    es.onerror = function () {
      if (state) { state.textContent = 'reconnecting'; state.className = 'live off'; }
    };
    names.forEach(function (name) {
      es.addEventListener(name, function (ev) { onEvent(name, ev); });
    });
  }
  // A browser holds at most six connections to one server over HTTP/1.1,
  // and a page kept in the back-forward cache would keep its stream open:
  // close it when the page is left, open it again when the page comes
  // back.
  window.addEventListener('pagehide', function () {
    if (es) { es.close(); es = null; }
  });
  window.addEventListener('pageshow', function () {
    if (!es) { open(); }
  });
  open();
})();
