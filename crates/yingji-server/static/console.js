// yingji console: live updates (server-sent events) and the intake form's level proposal.
// Pages work without this script; it only saves reloads.
(function () {
  'use strict';
  // Print buttons (an incident summary, a case sheet: the print style keeps the record only).
  document.addEventListener('click', function (e) {
    if (e.target.closest && e.target.closest('[data-print]')) window.print();
  });
  var body = document.body;
  var live = body.getAttribute('data-live');
  var status = document.getElementById('livestatus');
  function say(key) { if (status) status.textContent = status.getAttribute('data-' + key) || ''; }

  // Refetch this page and swap each [data-live] region (with an id) whose content changed.
  // Forms keep what the user typed and <details> the user opened stay open, inside the regions
  // too. One refetch at a time: changes that
  // arrive while one is on its way are folded into one more after it.
  var pending = null, inflight = false, again = false;
  function refresh() {
    if (inflight) { again = true; return; }
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      inflight = true;
      fetch(location.href, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var doc = new DOMParser().parseFromString(html, 'text/html');
          var swapped = 0;
          document.querySelectorAll('[data-live][id]').forEach(function (el) {
            var fresh = doc.getElementById(el.id);
            if (!fresh) return;
            // Compare as served: a <details> the user opened is not a change of content.
            var mine = el.cloneNode(true);
            mine.querySelectorAll('details[open]').forEach(function (d) { d.removeAttribute('open'); });
            if (fresh.outerHTML === mine.outerHTML) return;
            // Keep open <details> open, and what the user has typed or chosen in a form.
            var open = Array.prototype.map.call(el.querySelectorAll('details[open]'), function (d) { return d.id || d.querySelector('summary').textContent; });
            var typed = {};
            el.querySelectorAll('form').forEach(function (f) {
              Array.prototype.forEach.call(f.elements, function (x) {
                if (!x.name || x.type === 'hidden') return;
                var key = f.getAttribute('action') + '|' + x.name + '|' + (x.type === 'checkbox' || x.type === 'radio' ? x.value : '');
                if (x.type === 'checkbox' || x.type === 'radio') { if (x.checked !== x.defaultChecked) typed[key] = x.checked; }
                else if (x.tagName === 'SELECT') { if (!x.options[x.selectedIndex] || !x.options[x.selectedIndex].defaultSelected) typed[key] = x.value; }
                else if (x.value !== x.defaultValue) typed[key] = x.value;
              });
            });
            el.replaceWith(fresh);
            swapped += 1;
            fresh.querySelectorAll('details').forEach(function (d) {
              var key = d.id || (d.querySelector('summary') || {}).textContent;
              if (open.indexOf(key) >= 0) d.open = true;
            });
            fresh.querySelectorAll('form').forEach(function (f) {
              Array.prototype.forEach.call(f.elements, function (x) {
                if (!x.name || x.type === 'hidden') return;
                var key = f.getAttribute('action') + '|' + x.name + '|' + (x.type === 'checkbox' || x.type === 'radio' ? x.value : '');
                if (!(key in typed)) return;
                if (x.type === 'checkbox' || x.type === 'radio') x.checked = typed[key];
                else x.value = typed[key];
              });
            });
          });
          if (swapped) say('updated');
          body.setAttribute('data-refreshed', String(Date.now()));
        })
        .catch(function () {})
        .then(function () {
          inflight = false;
          if (again) { again = false; refresh(); }
        });
    }, 150);
  }

  if (live && window.EventSource) {
    var es = new EventSource('/live');
    es.addEventListener('open', function () { say('connected'); body.setAttribute('data-live-ready', '1'); });
    es.addEventListener('error', function () { say('offline'); });
    es.addEventListener('change', function (e) {
      var stream = (e.data || '').split(' ')[1];
      if (live === '*' || stream === '*' || stream === live) refresh();
    });
  }

  // The intake form: show the plan's proposed level as the headcount, venue or behaviours change.
  var form = document.getElementById('intake');
  if (form) {
    var timer = null;
    var update = function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = new URLSearchParams();
        q.set('plan', form.getAttribute('data-plan'));
        ['headcount', 'venue'].forEach(function (n) {
          var el = form.elements[n];
          if (el && el.value) q.set(n, el.value);
        });
        form.querySelectorAll('input[name="behaviours"]:checked').forEach(function (c) { q.append('behaviours', c.value); });
        fetch('/report/proposal?' + q.toString(), { credentials: 'same-origin' })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) {
            var box = document.getElementById('proposal');
            if (!html || !box) return;
            var doc = new DOMParser().parseFromString(html, 'text/html');
            var fresh = doc.getElementById('proposal');
            if (fresh) box.replaceWith(fresh);
          });
      }, 200);
    };
    form.addEventListener('input', function (e) {
      var n = e.target && e.target.name;
      if (n === 'headcount' || n === 'venue' || n === 'behaviours') update();
    });
    form.addEventListener('change', function (e) {
      var n = e.target && e.target.name;
      if (n === 'venue' || n === 'behaviours') update();
    });
  }
})();

// A file input that fills a text box (the drill page: a script loaded from a file).
(function () {
  document.querySelectorAll('input[type=file][data-fill]').forEach(function (f) {
    f.addEventListener('change', function () {
      var file = f.files && f.files[0];
      if (!file) return;
      file.text().then(function (t) { document.getElementById(f.dataset.fill).value = t; });
    });
  });
})();

// Attachment uploads: the file is the body of POST /attachments/upload (the page's CSRF token in
// X-CSRF-Token), which runs the API's own upload; then the page reloads, or shows the error.
(function () {
  document.querySelectorAll('form[data-upload]').forEach(function (f) {
    f.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var file = f.querySelector('input[type=file]').files[0];
      if (!file) return;
      var personal = f.querySelector('input[name=personal]');
      var q = new URLSearchParams({
        subject_kind: f.dataset.kind, subject_id: f.dataset.subject, file_name: file.name,
        personal: personal && personal.checked ? 'true' : 'false'
      });
      var err = f.querySelector('[data-upload-error]');
      fetch('/attachments/upload?' + q, {
        method: 'POST', body: file, credentials: 'same-origin',
        headers: { 'X-CSRF-Token': f.dataset.csrf, 'Content-Type': 'application/octet-stream' }
      })
        .then(function (r) { return r.json().then(function (b) { return [r.ok, b]; }); })
        .then(function (x) {
          if (x[0]) { location.reload(); return; }
          err.textContent = (x[1].error && x[1].error.message) || String(x[1]);
          err.hidden = false;
        });
    });
  });
})();

// A meeting's decisions: another row (`requires4`, `owner4`, `due4`…) for each click.
(function () {
  document.querySelectorAll('button[data-add-decision]').forEach(function (b) {
    b.hidden = false;
    b.addEventListener('click', function () {
      var rows = b.form.querySelectorAll('fieldset[data-decision]');
      if (rows.length >= 50) return;
      var last = rows[rows.length - 1];
      var n = rows.length + 1;
      var row = last.cloneNode(true);
      row.querySelectorAll('input, label').forEach(function (el) {
        ['id', 'name', 'for'].forEach(function (a) {
          var v = el.getAttribute(a);
          if (v) el.setAttribute(a, v.replace(/\d*$/, String(n)));
        });
        if (el.tagName === 'INPUT') el.value = '';
      });
      last.after(row);
      row.querySelector('input').focus();
    });
  });
})();
