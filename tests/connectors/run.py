"""The pull connectors end to end: `mitsprache source add`, `mitsprache sync` and the read API,
against local servers in the tools' real API shapes (servers.py for Decidim and Open311, one
module each for CONSUL, DIPAS, OParl, Go Vocal, LimeSurvey and meinBerlin), with paging, refusals
(429/503 with Retry-After), an unmappable record, edits and deletions between two syncs, and a
sync that breaks half-way.

Usage: run.py MITSPRACHE_BINARY DATABASE_URL HUB_URL [SCENARIO,…]
"""

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone

import requests

from servers import Decidim, Open311, serve


def cli(binary, database, *args, ok=True, env=None):
    environment = {**os.environ, **(env or {})}
    r = subprocess.run([binary, "--database", database, *args], capture_output=True, text=True, timeout=600,
                       env=environment)
    if ok and r.returncode != 0:
        raise AssertionError(f"mitsprache {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


# A sync whose requests time out after a second: with `hang_next`, a request that gets no answer.
SLOW = {"MITSPRACHE_SOURCES__REQUEST_TIMEOUT_SECONDS": "1"}


def first_sync(binary, database, name, tool):
    """The first sync of a source: its first request is refused (429, Retry-After: 1), the next
    one gets no answer within the timeout (1 s here); the sync waits, tries again and completes."""
    tool.control.fail_next = [429]
    tool.control.hang_next = [3]
    started = time.monotonic()
    out = cli(binary, database, "sync", name, env=SLOW).stdout
    check(time.monotonic() - started >= 1.0, "the sync did not wait for Retry-After")
    check(tool.control.refused == 1, "the refusal was not met")
    check(tool.control.hung == 1, "no request was kept waiting")
    return out


def broken_sync(binary, database, name, tool, break_after):
    """A sync whose source answers 500 after `break_after` requests: it fails, says that nothing
    was changed, and the source list shows the failure. The caller checks the records."""
    tool.control.requests = 0
    tool.control.break_after = break_after
    failed = cli(binary, database, "sync", name, ok=False)
    check(failed.returncode != 0 and "nothing was changed" in failed.stderr, failed.stderr)
    tool.control.break_after = None
    listed = cli(binary, database, "source", "list").stdout
    check(name in listed and "failed" in listed, listed)


def records(hub, kind, source, **params):
    out, page = [], 1
    while True:
        r = requests.get(f"{hub}/api/v1/{kind}", params={"source": source, "per_page": 100, "page": page, **params}, timeout=10)
        assert r.status_code == 200, r.text
        body = r.json()
        out += body["items"]
        if "next" not in body["links"]:
            return out
        page += 1


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def decidim(binary, database, hub, suffix):
    tool = Decidim()
    tool.seed()
    server, url = serve(tool)
    name = f"decidim-{suffix}"
    added = json.loads(cli(binary, database, "source", "add", "--kind", "decidim", "--name", name, "--url", url,
                           "--municipality", "05315000", "--interval", "60").stdout)
    check(added["name"] == name and added["credentials"] is False, added)

    out = first_sync(binary, database, name, tool)
    check("1 rejected" in out and "rejected 1077" in out, out)
    processes = records(hub, "processes", name)
    contributions = records(hub, "contributions", name)
    check(len(processes) == 2, processes)
    check(len(contributions) == 119, len(contributions))  # 120, one unmappable
    rad = next(p for p in processes if p["external_id"] == "1")
    check(rad["status"] == "open" and rad["municipality"] == "05315000", rad)
    check(rad["description"] == {"de": "Wo fehlen Radwege?"}, rad)
    check(rad["url"] == f"{url}/processes/radverkehr", rad)
    check(next(p for p in processes if p["external_id"] == "2")["status"] == "closed", processes)
    five = next(c for c in contributions if c["external_id"] == "1005")
    check(five["status"] == "withdrawn" and five["votes"] == {"up": 5, "down": 0}, five)
    check(five["location"] == {"type": "Point", "coordinates": [6.95, 50.94]}, five)
    check(five["provenance"]["via"] == "decidim", five)
    # 2 components with 90 and 30 proposals, 50 a page: 2 + 1 pages, and the process list.
    requests_first = tool.control.requests

    # Nothing changed: nothing is written.
    out = cli(binary, database, "sync", name).stdout
    check("0 created, 0 updated" in out and "0 deleted" in out, out)

    tool.change()
    out = cli(binary, database, "sync", name).stdout
    check("1 created, 1 updated" in out and "1 deleted" in out, out)
    contributions = records(hub, "contributions", name)
    check(len(contributions) == 119, len(contributions))
    check(any(c["title"] == {"de": "Vorschlag 1 (überarbeitet)"} for c in contributions), "the edit is missing")
    check(not any(c["external_id"] == "1002" for c in contributions), "the hidden proposal is still listed")
    check(next(c for c in contributions if c["external_id"] == "2001")["status"] == "accepted", "the new proposal")
    since = records(hub, "contributions", name, modified_since="2000-01-01T00:00:00Z")
    check(next(c for c in since if c["external_id"] == "1002")["deleted"] is True, "no tombstone for the hidden proposal")

    # A walk that breaks half-way changes nothing.
    tool.proposals["11"][2]["title"] = translated_de("Darf nicht ankommen")
    tool.proposals["11"][2]["updatedAt"] = "2026-04-01T12:00:00+01:00"
    broken_sync(binary, database, name, tool, 2)
    check(not any(c["title"] == {"de": "Darf nicht ankommen"} for c in records(hub, "contributions", name)), "half a sync was written")
    server.shutdown()
    return requests_first


def translated_de(text):
    return {"translations": [{"locale": "de", "text": text}]}


def open311(binary, database, hub, suffix):
    tool = Open311()
    now = datetime.now(timezone.utc)
    tool.seed(now)
    server, url = serve(tool)
    name = f"open311-{suffix}"
    cli(binary, database, "source", "add", "--kind", "open311", "--name", name, "--url", url, "--interval", "30")
    tool.control.fail_next = [503]
    out = cli(binary, database, "sync", name).stdout
    check("1 rejected" in out, out)
    check(tool.updated_after and not any(tool.updated_after), "the first sync asked only for changes")
    reports = records(hub, "contributions", name)
    check(len(reports) == 1499, len(reports))  # a window with 1,000 was halved until nothing was cut off
    zero = next(r for r in reports if r["external_id"] == "0")
    check(zero["kind"] == "defect-report" and zero["title"] == {"de": "Schlagloch"} and zero["status"] == "open", zero)
    check(zero["location"]["coordinates"] == [7.148344, 50.754391], zero)
    process = records(hub, "processes", name)
    check(len(process) == 1 and process[0]["process_type"] == "public-space", process)

    # A request that gets no answer within the timeout is tried again.
    tool.change(now)
    tool.control.hang_next = [4]
    out = cli(binary, database, "sync", name, env=SLOW).stdout
    check(tool.control.hung == 1, "the request was not kept waiting")
    check("0 created, 2 updated" in out, out)  # the request, and its process's updated_at
    check(tool.updated_after and all(tool.updated_after[-4:]), f"no updated_after after the first sync: {tool.updated_after}")
    out = cli(binary, database, "sync", name).stdout
    # Klarschiff answers only what changed since the last good sync (less 5 minutes): the one edit.
    fetched = int(out.split(" records fetched")[0].rsplit(" ", 1)[1])
    check("0 created, 0 updated" in out and fetched <= 2, out)
    zero = next(r for r in records(hub, "contributions", name) if r["external_id"] == "0")
    check(zero["status"] == "closed", zero)
    server.shutdown()


def main(binary, database, hub, only=None):
    import importlib

    def tool(module):
        return lambda: importlib.import_module(module).scenario(binary, database, hub, suffix)

    suffix = str(int(time.time() * 1000) % 10_000_000)
    scenarios = {
        "decidim": lambda: f"GraphQL, {decidim(binary, database, hub, suffix)} requests in the first sync (a refusal and a timeout included)",
        "open311": lambda: open311(binary, database, hub, suffix) or "90-day windows halved, a timeout tried again",
        "consul": tool("consul"),
        "dipas": tool("dipas"),
        "oparl": tool("oparl"),
        "govocal": tool("govocal"),
        "limesurvey": tool("limesurvey"),
        "meinberlin": tool("meinberlin"),
    }
    for name, run in scenarios.items():
        if only and name not in only.split(","):
            continue
        print(f"connectors: {name}: {run()}", flush=True)


if __name__ == "__main__":
    # An optional fourth argument runs only the named scenarios (comma-separated).
    main(*sys.argv[1:5])
