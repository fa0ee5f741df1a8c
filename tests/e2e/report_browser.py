#!/usr/bin/env python3
"""tests/e2e/report_browser.py: open a seqloop report in Debian's chromium,
headless, from disk, and check it as a reader would see it.

  report_browser.py REPORT.html SCREENSHOT.png SECTION...

Drives chromium over the DevTools protocol on a pipe (--remote-debugging-pipe:
no port, no network), under `unshare -n` (a network namespace with nothing
in it) when the kernel allows one, and with every host name resolving to
nothing in any case. Fails (exit 1) on any console message of level error or
warning, any uncaught exception, any Log entry of level error (a CSP
violation is one), any request other than the report file itself, a missing
section, or a section whose SVG plots are absent or empty (no drawn child,
(no data mark: an element of class d, or a child of
a g.d), or a zero-sized bounding box). Saves a full-page screenshot. Prints one
"ok - ..." / "not ok - ..." line per check (the suite's format).
Exit 77 (skip) when chromium is not installed.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import time

# data marks: the report draws every datum with class "d" (or inside a g.d)
DRAWN = ".d, g.d > *"


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    html, shot, sections = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3:]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("skip - browser: chromium is not installed (scripts/setup.sh installs it)")
        return 77
    url = "file://" + html
    r_cmd, w_cmd = os.pipe()  # we write commands -> chromium's fd 3
    r_ev, w_ev = os.pipe()    # chromium's fd 4 -> we read
    prefix = []
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        prefix = ["unshare", "-n"]
    profile = os.path.join(os.path.dirname(os.path.abspath(shot)), "chromium-profile")
    args = prefix + [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
                     "--host-resolver-rules=MAP * ~NOTFOUND", "--no-first-run", "--no-default-browser-check",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-extensions", "--hide-scrollbars", "--user-data-dir=" + profile, "about:blank"]

    def child_fds():
        os.dup2(r_cmd, 3)
        os.dup2(w_ev, 4)

    proc = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=child_fds, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    os.close(r_cmd)
    os.close(w_ev)
    buf = b""
    events = []
    next_id = [0]

    def send(method, params=None, session=None):
        next_id[0] += 1
        msg = {"id": next_id[0], "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(w_cmd, json.dumps(msg).encode() + b"\0")
        return next_id[0]

    def read_msg(deadline):
        nonlocal buf
        while b"\0" not in buf:
            if time.time() > deadline:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(r_ev, 1 << 16)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            buf += chunk
        raw, buf = buf.split(b"\0", 1)
        return json.loads(raw)

    def call(method, params=None, session=None, timeout=60):
        i = send(method, params, session)
        deadline = time.time() + timeout
        while True:
            m = read_msg(deadline)
            if m.get("id") == i:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            events.append(m)

    def wait_event(name, timeout=60):
        deadline = time.time() + timeout
        for m in events:
            if m.get("method") == name:
                return m
        while True:
            m = read_msg(deadline)
            events.append(m)
            if m.get("method") == name:
                return m

    failed = []

    def check(ok, what):
        print(("ok - " if ok else "not ok - ") + what)
        if not ok:
            failed.append(what)

    try:
        tid = call("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = call("Target.attachToTarget", {"targetId": tid, "flatten": True})["sessionId"]
        for dom in ("Page", "Runtime", "Log", "Network"):
            call(dom + ".enable", session=sid)
        call("Emulation.setDeviceMetricsOverride", {"width": 1200, "height": 900, "deviceScaleFactor": 1,
                                                    "mobile": False}, session=sid)
        events.clear()
        call("Page.navigate", {"url": url}, session=sid)
        wait_event("Page.loadEventFired")
        time.sleep(0.5)  # late console messages and requests
        res = call("Runtime.evaluate", {"returnByValue": True, "expression": """(() => {
            const out = {};
            for (const s of document.querySelectorAll('section')) {
              out[s.id] = [...s.querySelectorAll('svg.plot')].map(svg => {
                const b = svg.getBoundingClientRect();
                return {id: svg.id, drawn: svg.querySelectorAll('%s').length, w: b.width, h: b.height};
              });
            }
            return {sections: out, height: document.documentElement.scrollHeight, title: document.title};
        })()""" % DRAWN}, session=sid)["result"]["value"]
        # drain what arrived meanwhile
        call("Runtime.evaluate", {"expression": "1"}, session=sid)
        console = [e for e in events if e.get("method") == "Runtime.consoleAPICalled"]
        bad_console = [e for e in console if e["params"]["type"] in ("error", "warning", "assert")]
        exc = [e for e in events if e.get("method") == "Runtime.exceptionThrown"]
        logerr = [e for e in events if e.get("method") == "Log.entryAdded"
                  and e["params"]["entry"]["level"] in ("error", "warning")]
        reqs = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
        others = [u for u in reqs if u != url]
        check(url in reqs, f"browser: chromium loaded {os.path.basename(html)} from disk"
              f"{' in an empty network namespace' if prefix else ''}")
        check(not bad_console and not exc and not logerr,
              "browser: no console error or warning, no exception, no log error"
              + ("" if not (bad_console or exc or logerr) else
                 ": " + json.dumps([e["params"] for e in (bad_console + exc + logerr)][:3])[:600]))
        check(not others, f"browser: no request but the file itself ({len(reqs)} requests"
              + (f"; others: {others[:5]}" if others else "") + ")")
        secs = res["sections"]
        for s in sections:
            plots = secs.get(s)
            good = bool(plots) and all(p["drawn"] > 0 and p["w"] > 0 and p["h"] > 0 for p in plots)
            check(good, f"browser: section {s} has {len(plots or [])} non-empty SVG plots "
                  f"({', '.join(p['id'] + ':' + str(p['drawn']) for p in (plots or []))})")
        h = min(int(res["height"]) + 10, 16000)
        call("Emulation.setDeviceMetricsOverride", {"width": 1200, "height": h, "deviceScaleFactor": 1,
                                                    "mobile": False}, session=sid)
        png = base64.b64decode(call("Page.captureScreenshot", {"format": "png"}, session=sid)["data"])
        with open(shot, "wb") as f:
            f.write(png)
        check(png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000,
              f"browser: screenshot {os.path.basename(shot)} ({len(png)} bytes, 1200 x {h})")
        try:
            call("Browser.close", timeout=10)
        except Exception:
            pass
    except Exception as e:  # noqa: BLE001 - any failure to drive the browser is a test failure
        check(False, f"browser: driving chromium failed: {type(e).__name__}: {e}")
    finally:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
