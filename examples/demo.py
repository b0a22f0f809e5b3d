"""The main job, on this machine: `make demo`.

Starts the example target and `load-manager serve` (both on 127.0.0.1), then, through the HTTP
API as any client would:
  1. creates a load test from examples/locustfile.py, edits its script twice, lists the history,
     diffs two revisions and rolls back (the history is never rewritten);
  2. runs it (20 users, 30 s) against pass/fail criteria, with a live line of users, RPS, p95 and
     failures, then prints the per-endpoint summary, the verdict, the target's own request count
     and where the reports are;
  3. makes that run the baseline, saves a revision that adds a slow checkout step, and gates it
     the way a release pipeline would, with the CLI (`runs start --wait` exits 1: it regressed),
     then `runs compare` names the endpoint that got slower and shows the script diff behind it.
Exits non-zero if a step does not go as described. Everything it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
FINAL = {"Finished", "Failed", "Cancelled"}


@contextmanager
def background(command: list[str], pattern: str) -> Iterator[str]:
    """Run `command`, wait for a line matching `pattern` (group 1 = URL), stop it afterwards."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {proc.returncode}")
            found = re.search(pattern, line)
            if found:
                yield found.group(1)
                return
        raise RuntimeError(f"{' '.join(command)} did not start")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def check(response: requests.Response, *ok: int) -> dict:
    if response.status_code not in ok:
        raise SystemExit(f"{response.request.method} {response.url} -> {response.status_code}: {response.text}")
    return response.json() if response.content else {}


def script_workflow(api: str, target: str) -> str:
    print("\n== 1. Versioned script ==")
    original = (HERE / "locustfile.py").read_text()
    test = check(requests.post(f"{api}/v1/load-tests", json={
        "name": "Shop catalogue", "description": "Browse, view items, add to cart",
        "targetUrl": target, "scriptContent": b64(original), "projectId": "shop",
    }, timeout=10), 201)
    tid = test["id"]
    print(f"created load test {tid} (revision {test['latestRevisionNumber']}, by {test['createdBy']})")
    edits = [
        (original.replace("between(0.05, 0.2)", "between(0.1, 0.3)"), "Slower think time"),
        (original.replace("@task(5)", "@task(8)"), "Browse the catalogue more"),
    ]
    for content, description in edits:
        rev = check(requests.put(f"{api}/v1/load-tests/{tid}/script", json={"scriptContent": b64(content), "description": description}, timeout=10), 201)
        print(f"saved revision {rev['revisionNumber']}: {rev['description']}")
    same = requests.put(f"{api}/v1/load-tests/{tid}/script", json={"scriptContent": b64(edits[-1][0])}, timeout=10)
    print(f"saving identical content again -> {same.status_code}, still revision {same.json()['revisionNumber']}")
    print("history (newest first):")
    for rev in check(requests.get(f"{api}/v1/load-tests/{tid}/script/revisions", timeout=10), 200)["items"]:
        print(f"  r{rev['revisionNumber']}  {rev['sha256'][:12]}  {rev['createdBy']}  {rev['description']}")
    diff = check(requests.get(f"{api}/v1/load-tests/{tid}/script/diff", params={"from": 1, "to": 3}, timeout=10), 200)
    print(f"diff r1..r3: +{diff['addedLines']} -{diff['removedLines']}")
    print("  " + "\n  ".join(diff["unifiedDiff"].rstrip().splitlines()))
    rolled = check(requests.post(f"{api}/v1/load-tests/{tid}/script/rollback", json={"revision": 1}, timeout=10), 201)
    print(f"rolled back: revision {rolled['revisionNumber']} = '{rolled['description']}' (history kept: r1..r{rolled['revisionNumber']})")
    return tid


CRITERIA = [
    {"metric": "p95Ms", "operator": "<", "threshold": 500},
    {"metric": "failRatio", "operator": "<", "threshold": 0.01},
]


def run_load(api: str, target: str, tid: str, users: int, duration: int) -> dict | None:
    print(f"\n== 2. Run: {users} users for {duration} s against {target} ==")
    check(requests.patch(f"{api}/v1/load-tests/{tid}", json={"criteria": CRITERIA}, timeout=10), 200)
    print("criteria: p95 < 500 ms, failure ratio < 1 %")
    run = check(requests.post(f"{api}/v1/load-tests/{tid}/runs", json={"targetUsers": users, "spawnRate": users, "durationSeconds": duration},
                              headers={"Idempotency-Key": f"demo-{tid}"}, timeout=10), 201)
    print(f"run {run['id']} pinned to revision {run['revisionNumber']} (sha256 {run['scriptSha256'][:12]})")
    print(f"watch it in the web console: {api}/runs/{run['id']}")
    started, last_status, last_sample = time.monotonic(), None, None
    tty = sys.stdout.isatty()  # one updating line on a terminal, a line per sample in a log
    while True:
        run = check(requests.get(f"{api}/v1/runs/{run['id']}", timeout=10), 200)
        live = run.get("live") or {}
        if run["status"] != last_status and not live:
            print(f"[{run['status']}]", flush=True)
        last_status = run["status"]
        if live and run["status"] in ("Running", "Stopping") and live["sampledAt"] != last_sample:
            last_sample = live["sampledAt"]
            p95 = f"{live['p95Ms']:.0f} ms" if live.get("p95Ms") is not None else "-"
            line = (f"[{run['status']}] {time.monotonic() - started:5.1f}s  users={live['users']:3d}  rps={live['rps']:7.1f}"
                    f"  p95={p95:>7}  failures={live['failRatio'] * 100:5.1f}%")
            print("\r" + line if tty else line, end="   " if tty else "\n", flush=True)
        if run["status"] in FINAL:
            break
        time.sleep(1)
    print(f"\n[{run['status']}]" if tty else f"[{run['status']}]")
    if run["status"] != "Finished":
        print(f"run ended {run['status']}: {run.get('failureReason')}")
        return None
    summary = run["summary"]
    print(f"\n{'endpoint':<24}{'requests':>9}{'fails':>7}{'p50':>7}{'p95':>7}{'p99':>7}{'rps':>8}")
    for e in run["endpoints"]:
        print(f"{e['method'] + ' ' + e['name']:<24}{e['requests']:>9}{e['failures']:>7}{_ms(e['p50Ms'])}{_ms(e['p95Ms'])}{_ms(e['p99Ms'])}{e['rps']:>8.1f}")
    print(f"{'total':<24}{summary['totalRequests']:>9}{summary['totalFailures']:>7}{_ms(summary['p50Ms'])}{_ms(summary['p95Ms'])}{_ms(summary['p99Ms'])}{summary['rps']:>8.1f}")
    served = requests.get(f"{target}/__stats", timeout=10).json()["total"]
    print(f"\nthe target itself served {served} requests; the run reports {summary['totalRequests']}")
    print(f"result: {run['result']}  " + "; ".join(c["message"] for c in run["criteriaResults"]))
    print(f"report: {api}/v1/runs/{run['id']}/report   Locust's own: {run['reportLocation']}")
    print("status history: " + " -> ".join(f"{h['status']} ({h['actor']})" for h in run["statusHistory"]))
    return run


def gate_a_regression(api: str, tid: str, baseline: dict) -> bool:
    print("\n== 3. Gate a release on it ==")
    check(requests.put(f"{api}/v1/load-tests/{tid}/baseline", json={"runId": baseline["id"]}, timeout=10), 200)
    regression = [*CRITERIA, {"metric": "p95Ms", "maxRegressionPercent": 50}]
    check(requests.patch(f"{api}/v1/load-tests/{tid}", json={"criteria": regression}, timeout=10), 200)
    print(f"baseline: run {baseline['id']}; added: p95 may not grow more than 50 % over it")
    script = (HERE / "locustfile.py").read_text().replace(
        "    @task(1)\n    def slow_report(self):",
        "    @task(3)\n    def checkout(self):\n        self.client.get(\"/slow?ms=400\", name=\"/checkout\")\n\n    @task(1)\n    def slow_report(self):",
    )
    rev = check(requests.put(f"{api}/v1/load-tests/{tid}/script", json={"scriptContent": b64(script), "description": "Add the checkout step"}, timeout=10), 201)
    print(f"saved revision {rev['revisionNumber']}: {rev['description']}")
    cli = [str(Path(sys.executable).parent / "load-manager")]
    env = {**os.environ, "LOAD_MANAGER_API_URL": api}
    print(f"$ load-manager runs start {tid} --users {baseline['targetUsers']} --duration 10 --wait")
    started = subprocess.run([*cli, "runs", "start", tid, "--users", str(baseline["targetUsers"]), "--duration", "10", "--wait", "--json"],
                             env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    print(f"exit code {started.returncode} (0 passed, 1 failed its gates, 2 the run failed, 3 usage or API error)")
    if started.returncode != 1:
        print(started.stdout[-2000:], started.stderr[-2000:])
        return False
    run = json.loads(started.stdout)
    for result in run["criteriaResults"]:
        print(f"  {'pass' if result['passed'] else 'FAIL'}  {result['message']}")
    print(f"$ load-manager runs compare {run['id']}")
    compared = subprocess.run([*cli, "runs", "compare", run["id"]], env=env, capture_output=True, text=True, timeout=60)
    print(compared.stdout.rstrip())
    return compared.returncode == 0 and "/checkout" in compared.stdout


def _ms(value: float | None) -> str:
    return f"{value:>7.0f}" if value is not None else f"{'-':>7}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--data-dir", default=None, help="defaults to a fresh temporary directory")
    args = parser.parse_args()
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="load-manager-demo-")
    cli = str(Path(sys.executable).parent / "load-manager")
    with ExitStack() as stack:
        target = stack.enter_context(background([sys.executable, str(HERE / "target_service.py"), "--port", "0"], r"listening on (http://\S+)"))
        api = stack.enter_context(background(
            [cli, "serve", "--port", "0", "--data-dir", data_dir, "--log-level", "WARNING"], r"listening on (http://\S+)"
        ))
        print(f"target: {target}\nLoad Manager API: {api} (data in {data_dir})")
        tid = script_workflow(api, target)
        baseline = run_load(api, target, tid, args.users, args.duration)
        ok = baseline is not None and baseline["result"] == "Passed" and gate_a_regression(api, tid, baseline)
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
