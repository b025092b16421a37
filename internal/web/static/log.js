// Follows a running task's log on the task page: appends each line the
// server sends (GET /console/tasks/{id}/log, server-sent events) and shows
// the task's final state. Without JavaScript the page reloads instead.
(function () {
  "use strict";
  var log = document.getElementById("log");
  if (!log || !log.dataset.stream || !window.EventSource) return;
  var last = Number(log.dataset.after || 0);
  var live = document.getElementById("live");
  live.textContent = "following live";
  var es = new EventSource(log.dataset.stream);

  function cell(tag, cls, text) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = text;
    return el;
  }
  function stamp(iso) {
    return new Date(iso).toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }
  function label(el, state) {
    el.textContent = state;
    el.className = "label state-" + state;
  }

  es.addEventListener("line", function (ev) {
    var l = JSON.parse(ev.data);
    if (l.seq <= last) return; // a reconnect replays what is shown
    last = l.seq;
    var li = cell("li", "line level-" + l.level, "");
    li.dataset.seq = l.seq;
    li.append(cell("time", "", stamp(l.time)),
      cell("span", "level", l.level), cell("span", "step", l.step || ""), cell("span", "msg", l.message));
    log.append(li);
  });
  es.addEventListener("end", function (ev) {
    es.close();
    var t = JSON.parse(ev.data);
    label(document.getElementById("task-state"), t.state);
    if (t.finished_at) document.getElementById("task-finished").textContent = stamp(t.finished_at);
    (t.steps || []).forEach(function (s) {
      var row = document.getElementById("step-" + s.id);
      if (!row) return;
      label(row.querySelector(".label"), s.state);
      row.querySelector(".worker").textContent = s.worker_id || "—";
      row.querySelector(".exit").textContent = s.exit_code == null ? "—" : String(s.exit_code);
      row.querySelector(".error").textContent = s.error || "";
    });
    var cancel = document.getElementById("cancel");
    if (cancel) cancel.closest("form").remove();
    live.textContent = "complete";
  });
})();
