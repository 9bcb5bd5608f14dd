// The status page's stylesheet and script, served by sstpwatch itself (no CDN, no build step). The page works
// without the script; with it, the page re-fetches itself every data-refresh seconds and swaps <main>.

export const PAGE_STYLE = `
:root {
  --bg: #ffffff; --fg: #1a1a1a; --muted: #555b63; --line: #d0d4da; --panel: #f5f6f8; --link: #0b57d0;
  --up-bg: #d5f2dc; --up-fg: #0b5220; --down-bg: #fbd5d5; --down-fg: #8a1111;
  --warn-bg: #fde7bf; --warn-fg: #6b4100; --unknown-bg: #e4e6ea; --unknown-fg: #33383f;
  --maint-bg: #dbe7fe; --maint-fg: #1c3879;
  --bar-ok: #2e8b47; --bar-partial: #c27c00; --bar-failed: #c62828; --bar-none: #a9afb8;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #15171a; --fg: #e8eaed; --muted: #a6adb6; --line: #3a3f46; --panel: #1e2125; --link: #8ab4f8;
    --up-bg: #113a1d; --up-fg: #a6e8b7; --down-bg: #4a1515; --down-fg: #ffc2c2;
    --warn-bg: #43300a; --warn-fg: #ffd98a; --unknown-bg: #2c3036; --unknown-fg: #d5d9de;
    --maint-bg: #18284a; --maint-fg: #bcd0ff;
    --bar-ok: #4cbb6c; --bar-partial: #e0a030; --bar-failed: #ef5350; --bar-none: #5b616a;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
a { color: var(--link); }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--bg); padding: .5rem; z-index: 1; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.top, main, .bottom { max-width: 80rem; margin: 0 auto; padding: 0 1rem; }
.top { display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: .25rem 1rem; padding-top: .75rem; }
h1 { font-size: 1.5rem; margin: 0; }
h2 { font-size: 1.2rem; margin: 0; display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; }
.controls { margin: 0; color: var(--muted); font-size: .9rem; }
.controls a { margin-right: .5rem; }
section { margin: 1.25rem 0; }
.summary { background: var(--panel); border: 1px solid var(--line); border-left-width: .4rem; border-radius: .4rem; padding: .6rem 1rem; }
.summary-down { border-left-color: var(--bar-failed); }
.summary-up { border-left-color: var(--bar-ok); }
.summary p { margin: 0 0 .4rem; }
.counts { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; }
.count { font-weight: 600; }
.sites { list-style: none; margin: .2rem 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem; }
.site-finding { color: var(--down-fg); }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; font-size: .85rem; font-weight: 600; white-space: nowrap; }
.state-up, .state-ok { background: var(--up-bg); color: var(--up-fg); }
.state-down { background: var(--down-bg); color: var(--down-fg); }
.state-degraded { background: var(--warn-bg); color: var(--warn-fg); }
.state-unknown { background: var(--unknown-bg); color: var(--unknown-fg); }
.state-maintenance { background: var(--maint-bg); color: var(--maint-fg); }
.group-meta { margin: .2rem 0 .5rem; color: var(--muted); overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; vertical-align: top; padding: .45rem .5rem; border-top: 1px solid var(--line); }
thead th { font-size: .85rem; color: var(--muted); border-top: 0; }
tbody th { font-weight: 600; }
.targets tbody th { min-width: 11rem; }
.targets td.last { min-width: 14rem; }
.role { font-weight: normal; font-size: .8rem; color: var(--muted); }
.url, .since, .maint, .flapping, .strip-text, .cert-until, .muted, .generated { font-size: .85rem; color: var(--muted); }
.url { font-weight: normal; overflow-wrap: break-word; }
.target-name { overflow-wrap: break-word; }
.flapping, .warn-text { color: var(--warn-fg); }
.error-headline { color: var(--down-fg); }
code { font-size: .85rem; overflow-wrap: anywhere; white-space: pre-wrap; }
details { margin-top: .25rem; font-size: .9rem; }
details p { margin: .35rem 0; max-width: 60ch; }
summary { cursor: pointer; color: var(--link); }
.strip { display: block; width: 100%; min-width: 120px; max-width: 240px; height: 24px; margin: .2rem 0; }
.bar.ok { fill: var(--bar-ok); }
.bar.partial { fill: var(--bar-partial); }
.bar.failed { fill: var(--bar-failed); }
.bar.none { fill: var(--bar-none); }
.uptime-list { margin: 0; display: grid; grid-template-columns: max-content max-content; gap: 0 .6rem; font-size: .9rem; white-space: nowrap; }
.uptime-list div { display: contents; }
.uptime-list dt { color: var(--muted); }
.uptime-list dd { margin: 0; font-variant-numeric: tabular-nums; }
.cert-days { font-weight: 600; }
.cert-days, .cert-until { white-space: nowrap; }
.cert-warning { color: var(--warn-fg); background: var(--warn-bg); padding: 0 .3rem; border-radius: .2rem; }
.cert-critical, .cert-expired { color: var(--down-fg); background: var(--down-bg); padding: 0 .3rem; border-radius: .2rem; }
.reason { overflow-wrap: anywhere; }
.incidents tr.open th { color: var(--down-fg); }
.bottom ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; }
.bottom { border-top: 1px solid var(--line); margin-top: 2rem; }
@media (max-width: 52rem) {
  table, thead, tbody, tr, th, td { display: block; }
  thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  tbody tr { border: 1px solid var(--line); border-radius: .4rem; margin: .6rem 0; padding: .2rem .6rem .5rem; }
  th, td { border: 0; padding: .3rem 0; }
  td[data-label]::before { content: attr(data-label); display: block; font-size: .75rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
  .strip { max-width: none; }
}
`;

export const PAGE_SCRIPT = `'use strict';
(function () {
  var main = document.getElementById('content');
  var state = document.getElementById('refresh-state');
  if (!main || !state || !window.fetch || !window.DOMParser) return;
  var seconds = Number(main.getAttribute('data-refresh')) || 30;
  var timer = null;
  var failures = 0;
  var busy = false;

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(refresh, ms);
  }

  function openDetails() {
    var open = [];
    document.querySelectorAll('main details[open][id]').forEach(function (d) { open.push(d.id); });
    return open;
  }

  function refresh() {
    if (document.hidden || busy) return schedule(seconds * 1000);
    busy = true;
    fetch(location.pathname + location.search, { headers: { Accept: 'text/html' }, cache: 'no-store', credentials: 'same-origin' })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.text();
      })
      .then(function (text) {
        var next = new DOMParser().parseFromString(text, 'text/html').getElementById('content');
        if (!next) throw new Error('unexpected page');
        var open = openDetails();
        var current = document.getElementById('content');
        current.replaceWith(document.adoptNode(next));
        open.forEach(function (id) { var d = document.getElementById(id); if (d) d.open = true; });
        document.title = next.getAttribute('data-title') || document.title;
        busy = false;
        failures = 0;
        state.textContent = 'Updated ' + new Date().toLocaleTimeString() + '; next update in ' + seconds + ' s.';
        schedule(seconds * 1000);
      })
      .catch(function (err) {
        busy = false;
        failures++;
        state.textContent = 'Could not update (' + err.message + '); the figures below may be old. Retrying.';
        schedule(Math.min(seconds * 1000 * Math.pow(2, failures), 300000));
      });
  }

  document.addEventListener('visibilitychange', function () { if (!document.hidden) refresh(); });
  state.textContent = 'Updates every ' + seconds + ' s.';
  schedule(seconds * 1000);
})();
`;
