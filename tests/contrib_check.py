# SPDX-License-Identifier: GPL-2.0-only
"""Checks of what contrib/ ships around the agent (tests/test_contrib.c runs
them). Every problem found is one line on stdout; the exit status is 1 if
there was any.

  dashboard FILE          FILE has Grafana's dashboard structure
  rules RULES TESTS DOCS  every alert in RULES has a summary and a runbook,
                          a unit test in TESTS that fires it, and a
                          paragraph in DOCS
  config CONFIG RULES     promtool check config accepts CONFIG (the example
                          scrape configuration) with its rule_files pointed
                          at RULES
  live PORT DASHBOARD RULES [EXPR...]
                          every PromQL expression of the dashboard (Grafana's
                          variables as "All" gives them), of its variables and
                          of the recording rules, each recorded series, and
                          each EXPR, returns data (a number, not NaN) from the
                          Prometheus on 127.0.0.1:PORT; waits up to 20 s
"""
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import yaml

VARIABLES = {"$job": ".*", "$instance": ".*", "$comm": ".*",
             "$__rate_interval": "1m", "$__interval": "1s"}


def panels_of(dashboard):
    """Every panel, rows' own panels included (a collapsed row keeps them)."""
    for p in dashboard.get("panels", []):
        yield p
        yield from p.get("panels", [])


def check_dashboard(path):
    with open(path) as f:
        d = json.load(f)
    problems = []
    need = lambda cond, what: cond or problems.append(what)
    need(isinstance(d.get("schemaVersion"), int) and d["schemaVersion"] >= 36,
         "schemaVersion: an integer, 36 or later (Grafana 9+)")
    need(isinstance(d.get("title"), str) and d["title"], "title")
    need(isinstance(d.get("uid"), str) and 0 < len(d["uid"]) <= 40, "uid: 1 to 40 characters")
    variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    need(variables.get("datasource", {}).get("type") == "datasource" and
         variables["datasource"].get("query") == "prometheus",
         "templating: a datasource variable of type prometheus")
    for name in ("instance", "comm"):
        v = variables.get(name, {})
        need(v.get("type") == "query" and v.get("includeAll") and v.get("allValue") == ".*",
             f"templating: a query variable {name} with All as .*")
    ids = set()
    for p in panels_of(d):
        title = p.get("title", "?")
        need(isinstance(p.get("id"), int) and p["id"] not in ids, f"{title}: a unique integer id")
        ids.add(p.get("id"))
        g = p.get("gridPos", {})
        need(all(isinstance(g.get(k), int) for k in "xywh") and g.get("x", 0) + g.get("w", 0) <= 24,
             f"{title}: gridPos x, y, w, h within 24 columns")
        if p.get("type") == "row":
            continue
        need(p.get("type") in ("timeseries", "heatmap", "stat", "table", "gauge", "bargauge"),
             f"{title}: a known panel type")
        need(p.get("datasource", {}).get("uid") == "${datasource}",
             f"{title}: the datasource variable")
        targets = p.get("targets", [])
        need(targets and all(isinstance(t.get("expr"), str) and t["expr"] and t.get("refId")
                             for t in targets), f"{title}: targets with refId and expr")
        need(len({t.get("refId") for t in targets}) == len(targets), f"{title}: distinct refIds")
    return problems


def substituted(expr):
    for name in sorted(VARIABLES, key=len, reverse=True):
        expr = expr.replace(name, VARIABLES[name])
    return expr


def dashboard_queries(path):
    """(where, PromQL) of every target and of every variable's query: for
    label_values(SELECTOR, LABEL), count by (LABEL) (SELECTOR)."""
    with open(path) as f:
        d = json.load(f)
    for p in panels_of(d):
        for t in p.get("targets", []):
            yield f'panel "{p["title"]}" {t["refId"]}', substituted(t["expr"])
    for v in d["templating"]["list"]:
        if v["type"] != "query":
            continue
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = re.fullmatch(r"label_values\((.*), *(\w+)\)", q)
        yield f'variable {v["name"]}', (f"count by ({m[2]}) ({substituted(m[1])})" if m else q)


def rule_groups(path):
    with open(path) as f:
        return yaml.safe_load(f)["groups"]


def rules_queries(path):
    for g in rule_groups(path):
        for r in g["rules"]:
            if "record" in r:
                yield f'rule {r["record"]}', r["expr"]
                yield f'recorded {r["record"]}', r["record"]


def check_rules(rules, tests, docs):
    with open(tests) as f:
        fired = {a["alertname"] for t in yaml.safe_load(f)["tests"]
                 for a in t.get("alert_rule_test", []) if a.get("exp_alerts")}
    with open(docs) as f:
        doc = f.read()
    problems = []
    for g in rule_groups(rules):
        for r in g["rules"]:
            name = r.get("alert")
            if not name:
                continue
            notes = r.get("annotations", {})
            for key in ("summary", "runbook"):
                if not notes.get(key):
                    problems.append(f"{name}: no {key} annotation")
            if name not in fired:
                problems.append(f"{name}: no unit test in {tests} fires it")
            if f"`{name}`" not in doc:
                problems.append(f"{name}: not described in {docs}")
    return problems


def check_config(config, rules):
    with open(config) as f:
        c = yaml.safe_load(f)
    if len(c.get("rule_files", [])) != 1 or os.path.basename(c["rule_files"][0]) != \
            os.path.basename(rules):
        return [f"{config}: rule_files is not the one {os.path.basename(rules)}"]
    c["rule_files"] = [os.path.abspath(rules)]
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
        yaml.safe_dump(c, f)
        f.flush()
        run = subprocess.run(["promtool", "check", "config", f.name], capture_output=True,
                             text=True)
    return [] if run.returncode == 0 else [f"{config}: {run.stdout}{run.stderr}"]


def query(port, expr):
    """The values of an instant query, or the error Prometheus gave."""
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            answer = json.load(r)
    except Exception as e:  # a 400 for a bad expression says why in its body
        body = getattr(e, "read", lambda: b"")()
        return f"error: {e} {body.decode(errors='replace')}"
    result = answer["data"]["result"]
    if answer["data"]["resultType"] == "scalar":
        result = [{"value": result}]
    return [float(s["value"][1]) for s in result]


def check_live(port, dashboard, rules, extra):
    queries = list(dashboard_queries(dashboard)) + list(rules_queries(rules)) + \
        [(f"expected {e}", e) for e in extra]
    deadline = time.monotonic() + 20
    while True:
        missing = []
        for where, expr in queries:
            values = query(port, expr)
            if isinstance(values, str) or not any(not math.isnan(v) for v in values):
                missing.append(f"{where}: {expr} -> {values if isinstance(values, str) else 'no data'}")
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(1)
    print(f"{len(queries) - len(missing)} of {len(queries)} expressions return data")
    return missing


def main(argv):
    if argv[1] == "dashboard":
        problems = check_dashboard(argv[2])
    elif argv[1] == "rules":
        problems = check_rules(argv[2], argv[3], argv[4])
    elif argv[1] == "config":
        problems = check_config(argv[2], argv[3])
    else:
        problems = check_live(int(argv[2]), argv[3], argv[4], argv[5:])
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
