#!/usr/bin/env python3
"""The reverse load test, k6 Cloud's shapes scaled to this machine, on the local cluster and the embedded stack.

  scripts/bench-reverse.sh [--target cluster|embedded|both] [--shape peak|spike|soak]
                           [--rates 5000,10000,20000,40000] [--step-seconds 300] [--alone-requests 5000000]

Synthetic generators (no system under test) send request samples through the whole pipeline
(generators -> Kafka -> Flink -> ClickHouse -> query API), raising the rate step by step:
  peak   23,000 series (2,091 names x 11 metrics), one step per rate (default 5 minutes each, as the issue asks)
  spike  23,000 series: the lowest rate, then 4x it for a third of a step, then the lowest again
  soak   5,000 series (455 names) at the lowest rate for --step-seconds (the issue: 3600)
Per step it prints: the stored count against the generated (exact?), the sample-to-readable lag (each second,
the time from that second's end to its requests readable through the API) p50/p99, the time from the step's
end to every request stored, the dashboard reads' times while it ingests (summary, requests/s series,
p(95) by name top 10) median/p95, and CPU seconds per component (/proc, every process of the target).
A warm-up run at the lowest rate comes first (--warm-up-seconds, default 30), shown but not judged.
Then the highest rate sustained with lag p99 <= 5 s and every request stored, and, measured in the same script
run, the aggregate job alone on input already in Kafka (scripts/bench-aggregate.sh throughput), and their ratio.
Traffic: none leaves the machine (the synthetic plug-in makes samples, it sends no requests).
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(msg, flush=True)


class Api:
    def __init__(self, base, token):
        self.base = base.rstrip("/")
        self.token = token

    def call(self, method, path, body=None, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Authorization": "Bearer " + self.token,
                                              "Content-Type": "application/json"})
        t0 = time.monotonic()
        with urllib.request.urlopen(req, timeout=timeout) as r:
            out = json.loads(r.read() or b"null")
        return out, (time.monotonic() - t0) * 1000


def percentile(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(p / 100 * len(v) + 0.5)) - 1))]


def cpu_seconds(pids):
    """CPU seconds (user + system) of each named process and its children that ended, from /proc."""
    out = {}
    for name, pid in pids.items():
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[name] = sum(int(x) for x in fields[11:15]) / CLK_TCK  # utime stime cutime cstime
        except (OSError, IndexError, ValueError):
            out[name] = None
    return out


def child_pids(pid):
    """The children of a process, started by any of its threads."""
    out = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


class Target:
    """A running system to load: the local cluster or the embedded stack."""

    def __init__(self, kind):
        self.kind = kind
        self.proc = None
        self.started_here = False

    def start(self):
        if self.kind == "cluster":
            if subprocess.run([f"{ROOT}/scripts/cluster.sh", "status"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode != 0:
                subprocess.run([f"{ROOT}/scripts/cluster.sh", "down"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                subprocess.run([f"{ROOT}/scripts/cluster.sh", "up"], check=True)
                self.started_here = True
            env = dict(line.split("=", 1) for line in subprocess.run(
                [f"{ROOT}/scripts/cluster.sh", "env"], capture_output=True, text=True, check=True).stdout.splitlines())
            self.api = Api(env["LOADTEST_CLUSTER_API"] + "/api/v1", env["LOADTEST_CLUSTER_TOKEN"])
            self.dir = env["LOADTEST_CLUSTER_DIR"]
        else:
            token = "bench" + os.urandom(8).hex()
            self.proc = subprocess.Popen([f"{ROOT}/loadtest", "up", "--generators", "2", "--token", "write:" + token],
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                         start_new_session=True)
            url = None
            deadline = time.monotonic() + 600
            for line in self.proc.stdout:
                m = re.match(r"Query API:\s+(\S+)", line.strip())
                if m:
                    url = m.group(1)
                if line.startswith("From another shell") or time.monotonic() > deadline:
                    break
            if not url:
                raise SystemExit("the embedded stack did not start (./loadtest up)")
            threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()
            self.api = Api(url, token)
            self.started_here = True

    def pids(self):
        if self.kind == "cluster":
            out = {}
            for f in sorted(os.listdir(f"{self.dir}/pids")):
                with open(f"{self.dir}/pids/{f}") as fh:
                    out[f[:-4]] = int(fh.read().strip())
            return out
        # ./loadtest execs the JVM: the process started is the JVM; ClickHouse is its child
        out = {"JVM (broker, Flink, coordinator, API, generators)": self.proc.pid}
        for c in child_pids(self.proc.pid):
            out["ClickHouse" if len(out) == 1 else f"child {c}"] = c
        return out

    def stop(self):
        if self.kind == "embedded" and self.proc:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        elif self.kind == "cluster" and not os.environ.get("KEEP_CLUSTER"):
            subprocess.run([f"{ROOT}/scripts/cluster.sh", "down"], stdout=subprocess.DEVNULL)


def synthetic_plan(rate, seconds, names):
    return {"name": f"reverse load test {names} names {rate}/s",
            "generator": {"plugin": "synthetic", "options": {
                "rate": rate, "duration": f"{seconds}s", "latency": {"median": "20ms", "p99": "250ms"},
                "statusMix": {"200": 0.97, "404": 0.02, "500": 0.01}, "names": names}},
            "scenarios": {"unused": {"executor": "constant-vus", "vus": 1, "duration": "1s", "exec": "none"}},
            "flows": {"none": {"steps": [{"think": "1s"}]}}}


def run_step(target, label, rate, seconds, names, wait_after):
    api = target.api
    run_id = f"reverse-{target.kind}-{re.sub('[^A-Za-z0-9]+', '-', label).strip('-')}-{int(time.time())}"
    api.call("POST", "/runs", {"testRunId": run_id, "plan": synthetic_plan(rate, seconds, names)})
    deadline = time.monotonic() + 300
    while True:
        run, _ = api.call("GET", f"/runs/{run_id}")
        if run["status"] in ("RUNNING", "FINISHED", "FAILED", "ABORTED"):
            break
        if time.monotonic() > deadline:
            return {"label": label, "error": f"not running after 300 s: {run['status']}"}
        time.sleep(0.5)
    pids = target.pids()
    cpu0, t_cpu0 = cpu_seconds(pids), time.monotonic()
    start_ms = int(time.time() * 1000)
    end_ms = start_ms + seconds * 1000
    lags, reads = [], {"summary": [], "requests/s": [], "p(95) by name": []}
    summary_over_time = []  # (ms into the step, read ms): a soak's reads as its records grow
    tick = 0
    while time.time() * 1000 < end_ms:
        now = int(time.time() * 1000)
        try:
            ts, ms = api.call("GET", f"/runs/{run_id}/timeseries?metric=http_reqs&stat=count&from={now - 30000}&to={now}")
            reads["requests/s"].append(ms)
            points = [p for s in ts.get("series", []) for p in s["points"] if p[1]]
            if points and now - start_ms > 10000:
                newest = max(p[0] for p in points)
                lags.append((now - (newest + 1000)) / 1000)
            if tick % 3 == 0:
                _, ms = api.call("GET", f"/runs/{run_id}/summary")
                reads["summary"].append(ms)
                summary_over_time.append((now - start_ms, ms))
            if tick % 3 == 1:
                _, ms = api.call("GET", f"/runs/{run_id}/timeseries?metric=http_req_duration&stat=p(95)&groupBy=name&top=10")
                reads["p(95) by name"].append(ms)
        except urllib.error.HTTPError as e:
            if e.code == 404 and now - start_ms < 15000:
                pass  # the run's first rows are not stored yet: nothing to read, not a failed read
            else:
                reads.setdefault("errors", []).append(str(e))
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            reads.setdefault("errors", []).append(str(e))
        tick += 1
        time.sleep(max(0.0, 1 - (time.time() * 1000 - now) / 1000))
    # complete: every generated request stored
    generated = stored = None
    complete_after = None
    deadline = time.monotonic() + wait_after
    while time.monotonic() < deadline:
        try:
            run, _ = api.call("GET", f"/runs/{run_id}")
            totals = run.get("totals") or {}
            generated = totals.get("requests")
            summary, _ = api.call("GET", f"/runs/{run_id}/summary")
            stored = next((int(m["stats"]["count"]) for m in summary["metrics"] if m["metric"] == "http_reqs"), 0)
            if generated and stored >= generated and run["status"] != "RUNNING":
                complete_after = (time.time() * 1000 - end_ms) / 1000
                break
        except (urllib.error.URLError, TimeoutError, OSError):
            pass
        time.sleep(1)
    cpu1, t_cpu1 = cpu_seconds(pids), time.monotonic()
    cpu = {k: round(cpu1[k] - cpu0[k], 1) for k in pids if cpu0.get(k) is not None and cpu1.get(k) is not None}
    return {"label": label, "run": run_id, "rate": rate, "seconds": seconds, "series": names * 11 + 3,
            "generated": generated, "stored": stored, "exact": generated is not None and stored == generated,
            "completeAfterS": complete_after, "lagP50": percentile(lags, 50), "lagP99": percentile(lags, 99),
            "reads": {k: (statistics.median(v), percentile(v, 95)) for k, v in reads.items() if v and k != "errors"},
            "summaryByWindow": windows(summary_over_time, 300_000) if seconds > 300 else [],
            "readErrors": len(reads.get("errors", [])), "readError": (reads.get("errors") or [""])[0], "wallS": round(t_cpu1 - t_cpu0, 1), "cpuS": cpu}


def windows(points, width_ms):
    """(window start s, median, p95) of the values per window of the step."""
    out = {}
    for t, v in points:
        out.setdefault(t // width_ms, []).append(v)
    return [(k * width_ms // 1000, statistics.median(v), percentile(v, 95)) for k, v in sorted(out.items())]


def show(r):
    if "error" in r:
        log(f"  {r['label']}: {r['error']}")
        return
    complete = f"{r['completeAfterS']:.1f} s" if r["completeAfterS"] is not None else "not within the wait"
    log(f"  {r['label']}: {r['rate']:,}/s for {r['seconds']} s, {r['series']:,} series: stored {r['stored']:,} of "
        f"{r['generated'] if r['generated'] is None else format(r['generated'], ',')} ({'exact' if r['exact'] else 'NOT exact'}), "
        f"complete {complete} after the end, lag p50 {r['lagP50']:.1f} s p99 {r['lagP99']:.1f} s")
    log("    reads (median / p95 ms): " + ", ".join(f"{k} {m:.0f} / {p:.0f}" for k, (m, p) in r["reads"].items())
        + (f", {r['readErrors']} failed (first: {r['readError'][:160]})" if r["readErrors"] else ""))
    if r["summaryByWindow"]:
        log("    summary reads per 5 minutes (from s: median / p95 ms): "
            + ", ".join(f"{s}: {m:.0f} / {p:.0f}" for s, m, p in r["summaryByWindow"]))
    top = sorted(r["cpuS"].items(), key=lambda kv: -kv[1])
    log(f"    CPU seconds over {r['wallS']} s (2 cores = {2 * r['wallS']:.0f}): "
        + ", ".join(f"{k} {v}" for k, v in top if v >= 0.5))


def sustained(r):
    return "error" not in r and r["exact"] and r["completeAfterS"] is not None and r["lagP99"] <= 5


def alone(requests):
    log(f"== the aggregate job alone, {requests:,} requests already in Kafka (scripts/bench-aggregate.sh throughput)")
    p = subprocess.run([f"{ROOT}/scripts/bench-aggregate.sh", "throughput", str(requests), "1"],
                       capture_output=True, text=True)
    m = re.search(r"median: ([\d,]+) request samples/s", p.stdout)
    if not m:
        log(p.stdout[-2000:] + p.stderr[-2000:])
        return None
    value = int(m.group(1).replace(",", ""))
    log(f"  {value:,} request samples/s")
    return value


def main():
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("--target", choices=["cluster", "embedded", "both"], default="both")
    a.add_argument("--shape", choices=["peak", "spike", "soak"], default="peak")
    a.add_argument("--rates", default="5000,10000,20000,40000")
    a.add_argument("--step-seconds", type=int, default=300)
    a.add_argument("--wait-after", type=int, default=300, help="seconds to wait after a step for every request")
    a.add_argument("--alone-requests", type=int, default=5_000_000, help="0: skip the aggregate job alone")
    a.add_argument("--warm-up-seconds", type=int, default=30,
                   help="a run at the lowest rate first, reported but not judged (JIT, first inserts); 0: none")
    args = a.parse_args()
    # every value checked before anything starts (a cluster, a stack)
    try:
        rates = [int(x) for x in args.rates.split(",")]
    except ValueError:
        a.error(f"--rates: whole numbers separated by commas, got {args.rates!r}")
    if any(r < 1 or r > 10_000_000 for r in rates):
        a.error(f"--rates: each from 1 to 10,000,000 request samples/s, got {args.rates!r}")
    for name, value, low, high in (("--step-seconds", args.step_seconds, 1, 86_400),
                                   ("--wait-after", args.wait_after, 0, 86_400),
                                   ("--warm-up-seconds", args.warm_up_seconds, 0, 3_600),
                                   ("--alone-requests", args.alone_requests, 0, 1_000_000_000)):
        if not low <= value <= high:
            a.error(f"{name}: from {low:,} to {high:,}, got {value}")
    names = 455 if args.shape == "soak" else 2091
    if args.shape == "peak":
        steps = [(f"{r}", r, args.step_seconds) for r in rates]
    elif args.shape == "spike":
        low = rates[0]
        steps = [("before", low, args.step_seconds), ("spike", 4 * low, max(10, args.step_seconds // 3)),
                 ("after", low, args.step_seconds)]
    else:
        steps = [("soak", rates[0], args.step_seconds)]
    targets = ["cluster", "embedded"] if args.target == "both" else [args.target]
    best = {}
    for kind in targets:
        log(f"== {kind}: {args.shape}, {names:,} names ({names * 11 + 3:,} series)")
        t = Target(kind)
        try:
            t.start()
            results = []
            if args.warm_up_seconds > 0:
                show(run_step(t, "warm-up (not judged)", rates[0], args.warm_up_seconds, names, args.wait_after))
            for label, rate, seconds in steps:
                r = run_step(t, label, rate, seconds, names, args.wait_after)
                show(r)
                results.append(r)
            ok = [r["rate"] for r in results if sustained(r)]
            best[kind] = max(ok) if ok else None
        finally:
            t.stop()
    reference = alone(args.alone_requests) if args.alone_requests > 0 else None
    log("== result")
    for kind, rate in best.items():
        if rate is None:
            log(f"  {kind}: no step sustained (lag p99 <= 5 s, every request stored)")
        else:
            ratio = f", {rate / reference:.3f} of the job alone ({reference:,}/s)" if reference else ""
            log(f"  {kind}: highest sustained {rate:,} request samples/s{ratio}")


if __name__ == "__main__":
    main()
