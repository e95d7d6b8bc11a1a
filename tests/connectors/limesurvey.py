"""A LimeSurvey RemoteControl 2 (JSON-RPC) server, and the scenario that syncs it through `mitsprache`.

Read in LimeSurvey/LimeSurvey (index versions; the repository is too big to fetch whole):
- `application/helpers/remotecontrol/remotecontrol_handle.php` (00109dd9, same in 1a28a463):
  `get_session_key($username, $password, $plugin = 'Authdb')` returns the 32-character key, else
  `{"status": "Invalid user name or password"}` (or the auth plugin's message);
  `release_session_key($key)` returns "OK" whatever the key;
  `list_surveys($key, $sUsername = null)` returns `[{"sid", "surveyls_title", "startdate", "expires",
  "active"}]` (title from the survey's base language, '' when that row is missing; dates are the raw DB
  columns "YYYY-MM-DD HH:MM:SS" in the server's local time, no offset, or null; active "Y"/"N"), and
  `{"status": "No surveys found"}` (NOT an empty list) when there are none;
  `get_summary($key, $iSurveyID, $sStatName = 'all')` returns for 'all' the token stats first when the
  survey has a participants table (`token_count, token_invalid, token_sent, token_opted_out,
  token_completed, token_screenout`) then `completed_responses, incomplete_responses, full_responses`
  when it has a responses table (only an activated survey has one); with neither the result is `[]`,
  an empty JSON array. Errors: `{"status": "Invalid surveyid"}`, `{"status": "Invalid summary key"}`,
  `{"status": "No permission"}`, and every method's `{"status": "Invalid session key"}`.
- Value types: the counts are Yii's `CActiveRecord::count()` = `queryScalar()`, documented "string ... to
  keep max. precision"; `sid` is the primary key as PDO returns it. PDO MySQL before PHP 8.1 returns
  both as strings ("12", "482913"); PHP >= 8.1 (and PDO PostgreSQL) as integers. A client has to take
  both; `legacy_types` switches this server between them.
- `application/libraries/LSjsonRPCServer.php` (11e6deca): only a POST whose Content-Type contains
  "application/json" is JSON-RPC; the answer is `{"id", "result", "error"}` with `error` null on success;
  an unknown method or a `false` result gives `result: null, error: "unknown method or incorrect
  parameters"`, undecodable JSON `{"id": null, "result": null, "error": "unable to decode malformed json"}`;
  a request whose id is empty (PHP `empty()`: 0, "", null) is a notification and gets no body. The HTTP
  status is 200 for all of these. JSON is PHP's json_encode: "/" as "\\/", non-ASCII as \\uXXXX.
- Not read: the admin controller around it (a non-JSON POST answering an empty 200, and too few params
  being a PHP fatal error, 500, are inferred); `iSessionExpirationTime` (default 7200 s is assumed);
  the `gsid` key and survey-group filter that LimeSurvey PR #4115 (Dec 2024) added to list_surveys
  (the indexed file predates it; this server does not send it).
"""

import json
import os
import secrets
import tempfile
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from run import broken_sync, check, cli, first_sync, records
from servers import Control, serve

BERLIN = ZoneInfo("Europe/Berlin")
PATH = "/index.php/admin/remotecontrol"


def local(t):
    """A DB datetime column as LimeSurvey keeps it: local time, no offset."""
    return t.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M:%S")


class LimeSurvey:
    def __init__(self, username="mitsprache", password="Umfrage-Geheimnis"):
        self.control = Control()
        self.username, self.password = username, password
        self.sessions = {}  # key -> expiry (epoch seconds)
        self.surveys = []
        self.legacy_types = False  # True: sid and counts as strings (PHP < 8.1 with MySQL)
        self.calls = []  # method names, for the scenario

    def seed(self, now):
        """Three activated surveys: one running, one upcoming (no responses yet), one expired (with a
        participants table)."""
        self.surveys = [
            {"sid": 482913, "title": "Bürgerbefragung Mobilität", "start": now - timedelta(days=30),
             "expires": now + timedelta(days=60), "active": "Y", "completed": 12, "incomplete": 3, "tokens": None},
            {"sid": 615270, "title": "Spielplatzumfrage Nordstadt", "start": now + timedelta(days=30),
             "expires": now + timedelta(days=90), "active": "Y", "completed": 0, "incomplete": 0, "tokens": None},
            {"sid": 739184, "title": "Haushaltsbefragung 2025", "start": now - timedelta(days=400),
             "expires": now - timedelta(days=300), "active": "Y", "completed": 240, "incomplete": 31,
             "tokens": {"count": 500, "invalid": 3, "sent": 480, "optout": 12, "completed": 240, "screenout": 0}},
        ]
        for s in self.surveys:
            for k in ("start", "expires"):
                s[k] = s[k].replace(microsecond=0)

    def change(self):
        """More responses for the running survey; the upcoming one deleted."""
        running = self.survey(482913)
        running["completed"], running["incomplete"] = 20, 4
        self.surveys.remove(self.survey(615270))

    def survey(self, sid):
        return next((s for s in self.surveys if str(s["sid"]) == str(sid)), None)

    def n(self, value):
        return str(value) if self.legacy_types else value

    # --- the RPC methods, as remotecontrol_handle.php answers them --------------------------

    def valid(self, key):
        now = time.time()
        self.sessions = {k: e for k, e in self.sessions.items() if e >= now}
        return isinstance(key, str) and key in self.sessions

    def get_session_key(self, username, password, plugin="Authdb"):
        if str(username) == self.username and str(password) == self.password:
            key = secrets.token_urlsafe(24)[:32]
            self.sessions[key] = time.time() + 7200
            return key
        return {"status": "Invalid user name or password"}

    def release_session_key(self, key):
        self.sessions.pop(str(key), None)
        return "OK"

    def list_surveys(self, key, username=None):
        if not self.valid(key):
            return {"status": "Invalid session key"}
        if username is not None and username != self.username:
            return {"status": "Invalid user"}
        if not self.surveys:
            return {"status": "No surveys found"}
        return [{"sid": self.n(s["sid"]), "surveyls_title": s["title"], "startdate": s["start"] and local(s["start"]),
                 "expires": s["expires"] and local(s["expires"]), "active": s["active"]} for s in self.surveys]

    def get_summary(self, key, sid, stat="all"):
        if not self.valid(key):
            return {"status": "Invalid session key"}
        s = self.survey(int(sid) if str(sid).isdigit() else 0)
        if s is None:
            return {"status": "Invalid surveyid"}
        token_stats = ("token_count", "token_invalid", "token_sent", "token_opted_out", "token_completed", "token_screenout")
        survey_stats = ("completed_responses", "incomplete_responses", "full_responses")
        if stat not in token_stats + survey_stats + ("all",):
            return {"status": "Invalid summary key"}
        out = {}
        if stat in token_stats or stat == "all":
            if s["tokens"]:
                t = s["tokens"]
                for name, k in zip(token_stats, ("count", "invalid", "sent", "optout", "completed", "screenout")):
                    out[name] = self.n(t[k])
            elif stat != "all":
                return {"status": "No available data"}
        if stat in survey_stats or stat == "all":
            if s["active"] == "Y":  # only an activated survey has a responses table
                out["completed_responses"] = self.n(s["completed"])
                out["incomplete_responses"] = self.n(s["incomplete"])
                out["full_responses"] = self.n(s["completed"] + s["incomplete"])
            elif stat != "all":
                return {"status": "No available data"}
        if stat == "all":
            return out or []  # PHP's empty array() is a JSON list
        return out[stat]

    # --- HTTP -------------------------------------------------------------------------------

    def handle(self, method, path, query, headers, body):
        if path != PATH:
            return 404, b"<!DOCTYPE html><title>404 Not Found</title>", [("Content-Type", "text/html; charset=UTF-8")]
        if method != "POST":
            return 200, b"<!DOCTYPE html><p>RemoteControl 2 (JSON-RPC)</p>", [("Content-Type", "text/html; charset=UTF-8")]
        if "application/json" not in (headers.get("Content-Type") or ""):
            return 200, b"", [("Content-Type", "text/html; charset=UTF-8")]
        try:
            request = json.loads(body or b"")
            if not isinstance(request, dict):
                raise ValueError
        except ValueError:
            return self.answer({"id": None, "result": None, "error": "unable to decode malformed json"})
        rid, name, params = request.get("id"), request.get("method"), request.get("params") or []
        methods = {"get_session_key": (self.get_session_key, 2), "release_session_key": (self.release_session_key, 1),
                   "list_surveys": (self.list_surveys, 1), "get_summary": (self.get_summary, 2)}
        self.calls.append(name)
        if name not in methods or not isinstance(params, list):
            response = {"id": rid, "result": None, "error": "unknown method or incorrect parameters"}
        elif len(params) < methods[name][1]:
            return 500, b"<b>Fatal error</b>: Uncaught ArgumentCountError", [("Content-Type", "text/html; charset=UTF-8")]
        else:
            result = methods[name][0](*params)
            response = {"id": rid, "result": result, "error": None}
        if not rid:  # a notification: no answer
            return 200, b"", [("Content-Type", "text/html; charset=UTF-8")]
        return self.answer(response)

    @staticmethod
    def answer(response):
        data = json.dumps(response, separators=(",", ":")).replace("/", "\\/")  # json_encode's escaping
        return 200, data.encode(), [("Content-Type", "application/json")]


def when(s):
    return datetime.fromisoformat(s) if s else None


def near(a, b, hours=3):
    """Whether two times agree up to the hours between UTC and Berlin (LimeSurvey's dates carry no offset)."""
    return abs((a - b).total_seconds()) <= hours * 3600


def scenario(binary, database, hub, suffix):
    tool = LimeSurvey()
    now = datetime.now(timezone.utc)
    tool.seed(now)
    server, url = serve(tool)
    name = f"limesurvey-{suffix}"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"username": tool.username, "password": tool.password}, f)
    try:
        added = json.loads(cli(binary, database, "source", "add", "--kind", "limesurvey", "--name", name, "--url", url,
                               "--municipality", "05315000", "--credentials-file", f.name, "--interval", "60").stdout)
    finally:
        os.unlink(f.name)
    check(added["name"] == name and added["credentials"] is True, added)

    out = first_sync(binary, database, name, tool)
    check("0 rejected" in out or "rejected" not in out, out)
    check("get_summary" in tool.calls and tool.calls[-1] == "release_session_key", f"calls: {tool.calls}")
    processes = records(hub, "processes", name)
    check(len(processes) == 3, processes)
    by_id = {p["external_id"]: p for p in processes}
    running, upcoming, expired = by_id["482913"], by_id["615270"], by_id["739184"]
    check(running["status"] == "open" and upcoming["status"] == "upcoming" and expired["status"] == "closed", processes)
    check(running["title"] == {"de": "Bürgerbefragung Mobilität"} and running["provenance"]["via"] == "limesurvey", running)
    check(running["url"] == f"{url}/index.php/482913" and running["municipality"] == "05315000", running)
    check(running.get("process_type") is None, running)
    check(running["responses"] == {"completed": 12, "incomplete": 3}, running)
    check(upcoming["responses"] == {"completed": 0, "incomplete": 0}, upcoming)
    check(expired["responses"] == {"completed": 240, "incomplete": 31}, expired)
    check(near(when(expired["updated_at"]), tool.survey(739184)["expires"]), expired)  # expires, as it has passed
    check(near(when(running["updated_at"]), tool.survey(482913)["start"]), running)  # else startdate
    check(near(when(upcoming["updated_at"]), tool.survey(615270)["start"]), upcoming)

    # Nothing changed, though now sid and the counts come as strings (an older PHP): nothing is written.
    tool.legacy_types = True
    out = cli(binary, database, "sync", name).stdout
    check("0 created, 0 updated" in out and "0 deleted" in out, out)

    tool.change()
    tool.control.requests = 0
    out = cli(binary, database, "sync", name).stdout
    check("0 created, 1 updated" in out and "1 deleted" in out, out)
    third_requests = tool.control.requests
    processes = records(hub, "processes", name)
    check(len(processes) == 2, processes)
    check(next(p for p in processes if p["external_id"] == "482913")["responses"] == {"completed": 20, "incomplete": 4}, processes)
    since = records(hub, "processes", name, modified_since="2000-01-01T00:00:00Z")
    check(next(p for p in since if p["external_id"] == "615270")["deleted"] is True, "no tombstone for the deleted survey")

    # The last survey deleted too would make list_surveys answer {"status": "No surveys found"}; a walk
    # that breaks half-way (here at the first get_summary) changes nothing.
    tool.survey(739184)["title"] = "Darf nicht ankommen"
    broken_sync(binary, database, name, tool, max(2, third_requests // 2))
    expired = next(p for p in records(hub, "processes", name) if p["external_id"] == "739184")
    check(expired["title"] == {"de": "Haushaltsbefragung 2025"}, "half a sync was written")
    server.shutdown()
    return f"{third_requests} JSON-RPC calls a walk; string and integer counts, deletion, refusal, break"
