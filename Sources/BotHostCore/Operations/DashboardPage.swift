import Hummingbird
import NIOCore

/// The operator's dashboard, `GET /` on the admin server: one self-contained HTML page,
/// compiled into the binary (no file to deploy, no build step, no external asset).
///
/// It reads `GET /bots` and `GET /rates` every few seconds and shows each bot's state,
/// worker, updates per second with a sparkline of the last minutes, handler errors, 429s,
/// 409s, journal backlog and dead letters. Bots that need a look come first: failed, then
/// struggling (backing off, rate limited, journal unavailable), then the rest. A state is
/// told by its words and its symbol, never by colour alone; the colours are of the
/// Okabe–Ito palette, which readers with colour blindness tell apart. Rows are kept and
/// updated in place, so that a thousand bots refresh without rebuilding the table, and a
/// filter narrows them down. Every value reaches the page as text (`textContent`),
/// never as markup, and the Content-Security-Policy allows no source but the page and
/// its own server.
enum DashboardPage {
    static var response: Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8",
                .contentSecurityPolicy:
                    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
                .cacheControl: "no-store",
            ],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <link rel="icon" href="data:,">
        <title>BotHost</title>
        <style>
          :root { --ink: #1b1b1b; --muted: #5b5b5b; --line: #d9d9d9; --bg: #fafafa;
                  --bad: #d55e00; --warn: #e69f00; --calm: #0072b2; --pause: #6f6f6f; --ok: #009e73; }
          * { box-sizing: border-box; }
          body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
          header { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: baseline; padding: .8rem 1.2rem; background: #fff; border-bottom: 1px solid var(--line); }
          h1 { font-size: 1.2rem; margin: 0; }
          .summary span { margin-right: .9rem; white-space: nowrap; }
          .meta { color: var(--muted); }
          #problem { color: var(--bad); font-weight: 600; }
          main { padding: .8rem 1.2rem; }
          .tools { display: flex; gap: 1rem; align-items: center; margin-bottom: .6rem; }
          input[type=search] { padding: .3rem .5rem; width: 16rem; font: inherit; }
          table { border-collapse: collapse; width: 100%; background: #fff; }
          th, td { padding: .35rem .55rem; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
          th { position: sticky; top: 0; background: #f0f0f0; font-weight: 600; z-index: 1; }
          th:first-child, td:first-child, td.state, th.state, td.error, th.error { text-align: left; }
          td.error { white-space: normal; max-width: 28rem; color: var(--muted); }
          tr { border-left: 6px solid transparent; }
          tr.bad { border-left: 6px solid var(--bad); background: #fff4ec; }
          tr.warn { border-left: 6px dashed var(--warn); background: #fffaf0; }
          tr.paused { border-left: 6px dotted var(--pause); }
          .badge { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-weight: 600; border: 2px solid currentColor; }
          .bad .badge { color: #fff; background: var(--bad); border-color: var(--bad); }
          .warn .badge { color: #6b4700; background: #fff1cc; border-style: dashed; }
          .paused .badge { color: var(--pause); border-style: dotted; }
          .calm .badge { color: var(--calm); }
          .ok .badge { color: #006b4e; }
          .nonzero { font-weight: 700; }
          svg.spark { vertical-align: middle; margin-left: .4rem; }
          svg.spark polyline { fill: none; stroke: var(--calm); stroke-width: 1.5; }
          @media (prefers-color-scheme: dark) {
            :root { --ink: #eaeaea; --muted: #a8a8a8; --line: #3a3a3a; --bg: #161616; }
            header, table { background: #1f1f1f; } th { background: #2a2a2a; }
            tr.bad { background: #3a1f10; } tr.warn { background: #33280f; }
            .warn .badge { color: #ffd27a; background: transparent; } .ok .badge { color: #4fd1a5; } .calm .badge { color: #56b4e9; }
            svg.spark polyline { stroke: #56b4e9; }
          }
        </style>
        </head>
        <body>
        <header>
          <h1>BotHost</h1>
          <div class="summary" id="summary" aria-live="polite"></div>
          <div class="meta" id="meta"></div>
          <div id="problem" role="alert"></div>
        </header>
        <main>
          <div class="tools">
            <label>Filter <input type="search" id="filter" placeholder="bot name or state" autocomplete="off"></label>
            <span class="meta" id="shown"></span>
          </div>
          <table>
            <thead><tr>
              <th scope="col">Bot</th><th scope="col" class="state">State</th><th scope="col">Worker</th>
              <th scope="col" title="updates handled per second; the line shows the last minutes">Updates/s</th>
              <th scope="col">Handled</th><th scope="col">Handler errors</th>
              <th scope="col" title="answers 429 Too Many Requests">429s</th>
              <th scope="col" title="answers 409 Conflict: another poller, or a webhook">409s</th>
              <th scope="col" title="updates journaled and not yet finished">Backlog</th>
              <th scope="col">Dead letters</th><th scope="col" class="error">Last error</th>
            </tr></thead>
            <tbody id="bots"></tbody>
          </table>
        </main>
        <script>
        "use strict";
        const refreshEvery = 3000;
        const states = {
          failed: { rank: 0, tone: "bad", symbol: "\u2716" },
          backing_off: { rank: 1, tone: "warn", symbol: "\u25B2" },
          rate_limited: { rank: 1, tone: "warn", symbol: "\u25B2" },
          journal_unavailable: { rank: 1, tone: "warn", symbol: "\u25B2" },
          starting: { rank: 2, tone: "calm", symbol: "\u25CC" },
          stopping: { rank: 2, tone: "calm", symbol: "\u25CC" },
          standby: { rank: 2, tone: "calm", symbol: "\u25CB" },
          paused: { rank: 3, tone: "paused", symbol: "\u275A\u275A" },
          polling: { rank: 4, tone: "ok", symbol: "\u25CF" },
          skipped: { rank: 4, tone: "calm", symbol: "\u2013" },
          stopped: { rank: 4, tone: "calm", symbol: "\u25A0" },
        };
        const rows = new Map();
        let order = "";
        let latest = { bots: [] };
        let history = {};

        function cell(row, className) {
          const td = document.createElement("td");
          if (className) td.className = className;
          row.appendChild(td);
          return td;
        }

        function setText(node, text) {
          if (node.textContent !== text) node.textContent = text;
        }

        function makeRow(name) {
          const tr = document.createElement("tr");
          tr.dataset.bot = name;
          const row = { tr };
          row.name = cell(tr);
          row.name.textContent = name;
          row.state = cell(tr, "state");
          row.badge = document.createElement("span");
          row.badge.className = "badge";
          row.state.appendChild(row.badge);
          row.worker = cell(tr);
          row.rate = cell(tr, "rate");
          row.rateText = document.createElement("span");
          row.rate.appendChild(row.rateText);
          const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
          svg.setAttribute("class", "spark");
          svg.setAttribute("width", "90");
          svg.setAttribute("height", "18");
          svg.setAttribute("viewBox", "0 0 90 18");
          svg.setAttribute("role", "img");
          row.sparkTitle = document.createElementNS("http://www.w3.org/2000/svg", "title");
          svg.appendChild(row.sparkTitle);
          row.spark = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
          svg.appendChild(row.spark);
          row.rate.appendChild(svg);
          for (const key of ["handled", "errors", "limited", "conflicts", "backlog", "dead"]) row[key] = cell(tr, key);
          row.error = cell(tr, "error");
          rows.set(name, row);
          return row;
        }

        function number(td, value) {
          const text = value === null || value === undefined ? "\u2013" : String(value);
          setText(td, text);
          td.classList.toggle("nonzero", typeof value === "number" && value > 0);
        }

        function shownState(bot) {
          if (bot.failure) return bot.state + ": " + bot.failure;
          if (bot.paused && bot.state !== "paused") return bot.state + " (pausing)";
          return bot.state.replace("_", " ");
        }

        function sparkline(row, values) {
          const points = values.length > 1 ? values.slice(-60) : [0, 0];
          const peak = Math.max(1, ...points);
          const step = points.length > 1 ? 88 / (points.length - 1) : 0;
          row.spark.setAttribute("points", points.map((v, i) => (1 + i * step).toFixed(1) + "," + (17 - (v / peak) * 16).toFixed(1)).join(" "));
          setText(row.sparkTitle, values.length > 1 ? "updates/s over the last " + values.length * (history.interval_seconds || 5) + " s, peak " + Math.max(...values) : "no samples yet");
        }

        function render() {
          const filter = document.getElementById("filter").value.trim().toLowerCase();
          const bots = latest.bots.slice().sort((a, b) => {
            const rank = (states[a.state] || { rank: 2 }).rank - (states[b.state] || { rank: 2 }).rank;
            return rank || b.handler_errors - a.handler_errors || a.name.localeCompare(b.name);
          });
          const seen = new Set();
          const counts = {};
          let shown = 0;
          for (const bot of bots) {
            seen.add(bot.name);
            const row = rows.get(bot.name) || makeRow(bot.name);
            const look = states[bot.state] || { tone: "calm", symbol: "?" };
            const tone = bot.paused && look.tone === "ok" ? "paused" : look.tone;
            if (row.tr.className !== tone) row.tr.className = tone;
            const label = shownState(bot);
            counts[bot.state] = (counts[bot.state] || 0) + 1;
            setText(row.badge, look.symbol + " " + label);
            row.tr.dataset.state = label;
            setText(row.worker, bot.worker_pid ? "pid " + bot.worker_pid : "\u2013");
            setText(row.rateText, bot.updates_per_second.toFixed(bot.updates_per_second < 10 ? 2 : 1));
            row.rate.dataset.rate = String(bot.updates_per_second);
            row.rate.classList.toggle("nonzero", bot.updates_per_second > 0);
            sparkline(row, (history.bots && history.bots[bot.name]) || []);
            number(row.handled, bot.updates_handled);
            number(row.errors, bot.handler_errors);
            number(row.limited, bot.rate_limited);
            number(row.conflicts, bot.conflicts);
            number(row.backlog, bot.backlog);
            number(row.dead, bot.dead_letters);
            setText(row.error, bot.last_error || "");
            const visible = !filter || bot.name.toLowerCase().includes(filter) || label.toLowerCase().includes(filter);
            row.tr.hidden = !visible;
            if (visible) shown += 1;
          }
          for (const [name, row] of rows) {
            if (!seen.has(name)) { row.tr.remove(); rows.delete(name); }
          }
          const newOrder = bots.map((bot) => bot.name).join("\n");
          if (newOrder !== order) {
            order = newOrder;
            document.getElementById("bots").append(...bots.map((bot) => rows.get(bot.name).tr));
          }
          const summary = Object.keys(counts).sort((a, b) => (states[a] || { rank: 2 }).rank - (states[b] || { rank: 2 }).rank)
            .map((state) => ((states[state] || {}).symbol || "") + " " + counts[state] + " " + state.replace("_", " "));
          setText(document.getElementById("summary"), "");
          for (const part of summary) {
            const span = document.createElement("span");
            span.textContent = part;
            document.getElementById("summary").appendChild(span);
          }
          setText(document.getElementById("shown"), "showing " + shown + " of " + bots.length + " bots");
        }

        async function refresh() {
          try {
            const [bots, rates] = await Promise.all([fetch("bots"), fetch("rates")]);
            if (!bots.ok || !rates.ok) throw new Error("the host answered " + (bots.ok ? rates.status : bots.status));
            latest = await bots.json();
            history = await rates.json();
            render();
            const uptime = Math.round(latest.uptime_seconds);
            setText(document.getElementById("meta"), "pid " + latest.pid + " \u00B7 up " + Math.floor(uptime / 3600) + "h " +
              Math.floor(uptime % 3600 / 60) + "m \u00B7 updated " + new Date().toLocaleTimeString());
            setText(document.getElementById("problem"), "");
          } catch (error) {
            setText(document.getElementById("problem"), "\u26A0 cannot read the host: " + error.message + "; showing the last known state");
          }
        }

        document.getElementById("filter").addEventListener("input", render);
        refresh();
        setInterval(refresh, refreshEvery);
        </script>
        </body>
        </html>
        """#
}
