"""A Go Vocal (formerly CitizenLab) Public API v2 server, its webhook deliveries, and the scenario
that syncs it through `mitsprache`.

Read in CitizenLabDotCo/citizenlab (index versions named by commit; HEAD itself was too big to fetch):
- `back/engines/commercial/public_api/app/controllers/public_api/public_api_controller.rb` (d27c4f25):
  `list_items` orders `created_at desc`, pages with Kaminari `page(page_number).per(min(page_size || 25,
  100))`, answers `{"<root>": [...], "meta": {"current_page", "total_pages"}}` (total_pages is 0 for an
  empty list); `created_at=` and `updated_at=START,END` become `BETWEEN start AND end` (an empty side is
  -infinity/infinity, inclusive, any timestamp PostgreSQL parses; an unparsable one is a database error,
  500). A missing or wrong Bearer token is `head :unauthorized` (401, empty body). Multilocs: every
  serializer flattens them with `MultilocService#t` into the request locale (`?locale=` or
  Accept-Language, else the tenant's first locale; `t({})` is "", `t(nil)` null). Only the Event
  serializer (`multiloc_attributes`, newer BaseSerializer) also sends the full `*_multiloc` hashes.
- `v2/api_token_controller.rb` (Knock `AuthTokenController`, `params.require(:auth)`), spec
  `spec/acceptance/v2/authentication_spec.rb`: POST /api/v2/authenticate answers 201 `{"jwt": "..."}`;
  wrong credentials raise Knock's not-found exception: 404 (not 401). The token lasts 24 h.
- Controllers `v2/{projects,phases,ideas,comments,events}_controller.rb`, `concerns/deleted_items_action.rb`
  and serializers `v2/{project,phase,idea,comment,event,deleted_item}_serializer.rb`: the fields below.
  Ideas are listed with every publication_status (draft, submitted, published); `type` is `idea` without a
  creation phase, else `survey` (native survey phase) or `proposal`. `/deleted` lists Activity rows
  (`item_type` = "Idea"/"Comment", action deleted) through `list_items`: it is PAGED too (default 25) and
  has `meta`; `deleted_at` is `acted_at` as ISO 8601 with milliseconds.
- `location_point` (ideas, events) is a PostGIS geography that the serializer does not convert: with
  rgeo-activerecord's default JSON generator (no `set_json_generator(:geojson)` initializer in
  back/config/initializers) it is WKT text, `"POINT (13.4 52.5)"`; the shipped Power BI dataflow
  (`public_api/files/power_bi/dataflow.json`) types it `text`. Projects' `map_center_geojson` is GeoJSON.
- Phases: `start_at`/`end_at` were date columns ("YYYY-MM-DD", `end_at` may be null: an open-ended last
  phase). `spec/files/power_bi_schema_spec.rb` says the columns have since become datetimes and that
  `PhaseSerializer#start_at` keeps them in the payload; that serializer version is not in the index, so
  whether the shim still sends "YYYY-MM-DD" (Power BI types them `date`) is NOT verified.
- Webhooks: `back/engines/commercial/webhooks/app/jobs/webhooks/delivery_job.rb` (42ac47e9),
  `services/webhooks/payload_service.rb` (856fc848) and its spec (725900a9), `models/webhooks/subscription.rb`.
  Headers Content-Type application/json, X-GoVocal-Event, X-GoVocal-Signature `sha256=` +
  Base64(HMAC-SHA256(secret_token, raw body)), X-GoVocal-Delivery-ID (the delivery's UUID), User-Agent
  GoVocal-Webhooks/1.0. The body is FLAT: `{"id" (activity id), "event_type", "acted_at" (ISO 8601, no
  fraction), "action", "user_id", "project_id", "tenant_id", "item_type", "item_id", "item" (the
  PublicApi::V2 serializer's attributes of the item, {} when it is gone)}`. The nested
  event/timestamp/data/metadata shape is only in an implementation plan and an older PayloadService.
  Events: idea.created, idea.published, idea.changed, idea.deleted, user.created/changed/deleted (no
  comment events). Any 2xx counts as delivered; 3 attempts; redirects are refused.
- Ideas `belongs_to :project, touch: true` (back/app/models/idea.rb): a new, changed or destroyed idea
  bumps its project's updated_at. Destroying an idea destroys its comments without a deletion Activity.

Not verified: rate limits (none found), the exact WKT number formatting, `href` paths, timestamps in a
tenant time zone other than UTC.
"""

import base64
import hashlib
import hmac
import json
import math
import os
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import requests

from run import broken_sync, check, cli, first_sync, records
from servers import Control, serve

NS = uuid.UUID("6f1d2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b")
TENANT = str(uuid.uuid5(NS, "tenant"))


def uid(name):
    return str(uuid.uuid5(NS, name))


def ts(t):
    """Rails' JSON time: UTC, milliseconds, `Z`."""
    return None if t is None else t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def pg_time(text, default):
    """A bound of a `FROM,TO` range as PostgreSQL reads it; ValueError for what it cannot."""
    text = text.strip()
    if not text:
        return default
    t = datetime.fromisoformat(text)
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def wkt(lng, lat):
    return f"POINT ({lng} {lat})"


class GoVocal:
    def __init__(self):
        self.control = Control()
        self.client_id, self.client_secret = uid("api-client"), "Geheimnis-des-Clients"
        self.webhook_secret = base64.b64encode(b"webhook-secret-of-32-bytes-.....").decode()
        self.tokens = set()
        self.seen = []  # (path, query) of every GET answered, for the scenario
        self.projects, self.phases, self.ideas, self.comments, self.events, self.activities = [], [], [], [], [], []

    def credentials(self):
        return {"client_id": self.client_id, "client_secret": self.client_secret, "webhook_secret": self.webhook_secret}

    # --- data -------------------------------------------------------------------------------

    def seed(self, now):
        """2 projects (one open with an open-ended phase, one archived), 3 phases, 150 ideas (one a
        draft, one an empty native-survey response, one idea without title and text the standard
        refuses), 40 comments, 3 events."""
        self.now = now
        day = lambda d: (now + timedelta(days=d)).date().isoformat()  # noqa: E731
        p1, p2 = uid("project-1"), uid("project-2")
        self.projects = [
            {"id": p1, "title": "Radverkehr in Musterstadt", "slug": "radverkehr",
             "description_html": "<p>Wo fehlen <strong>Radwege</strong>?</p><p>Sagen Sie es uns &amp; der Stadt.</p>",
             "description_preview": "Wo fehlen Radwege?", "publication_status": "published",
             "map_center_geojson": {"type": "Point", "coordinates": [7.0982, 50.7374]},
             "created_at": now - timedelta(days=300), "updated_at": now - timedelta(days=80)},
            {"id": p2, "title": "Spielplätze 2025", "slug": "spielplaetze-2025", "description_html": "",
             "description_preview": "", "publication_status": "archived", "map_center_geojson": None,
             "created_at": now - timedelta(days=600), "updated_at": now - timedelta(days=380)},
        ]
        self.phases = [
            {"id": uid("phase-1a"), "project_id": p1, "title": "Ideen sammeln", "participation_method": "ideation",
             "start_at": day(-200), "end_at": day(-100), "created_at": now - timedelta(days=299)},
            {"id": uid("phase-1b"), "project_id": p1, "title": "Vorschläge", "participation_method": "proposals",
             "start_at": day(-99), "end_at": None, "created_at": now - timedelta(days=298)},
            {"id": uid("phase-2"), "project_id": p2, "title": "Befragung", "participation_method": "native_survey",
             "start_at": day(-500), "end_at": day(-400), "created_at": now - timedelta(days=599)},
        ]
        self.ideas = [self.make_idea(n, now - timedelta(days=90) + timedelta(minutes=n)) for n in range(1, 151)]
        self.comments = []
        for c in range(1, 41):
            reply = c % 4 == 0
            parent = self.comments[-1] if reply else None
            idea = parent["idea"] if reply else self.ideas[9 + c]  # ideas 11..49, never 1 or 2
            t = now - timedelta(days=60) + timedelta(hours=c)
            self.comments.append({"id": uid(f"comment-{c}"), "idea": idea, "parent_id": parent and parent["id"],
                                  "body": f"Kommentar {c} zu {idea['title']}", "likes_count": c % 5,
                                  "dislikes_count": c % 2, "created_at": t, "updated_at": t})
        self.events = [
            {"id": uid("event-1"), "project_id": p1, "title": "Auftaktveranstaltung Radverkehr",
             "description": "<p>Vorstellung der <em>Planung</em></p>", "location": "Rathaus, Ratssaal",
             "location_point": wkt(7.0982, 50.7374), "start_at": now + timedelta(days=10, hours=2),
             "end_at": now + timedelta(days=10, hours=4), "created_at": now - timedelta(days=50)},
            {"id": uid("event-2"), "project_id": p1, "title": "Online-Sprechstunde", "description": "",
             "location": "", "location_point": None, "start_at": now + timedelta(days=20),
             "end_at": None, "created_at": now - timedelta(days=40)},
            {"id": uid("event-3"), "project_id": p2, "title": "Spielplatzbegehung", "description": "<p>Treffpunkt am Tor</p>",
             "location": "Spielplatz Nordpark", "location_point": wkt(7.1, 50.75),
             "start_at": now - timedelta(days=450), "end_at": now - timedelta(days=450) + timedelta(hours=2),
             "created_at": now - timedelta(days=470)},
        ]
        for e in self.events:
            e["updated_at"] = e["created_at"]
        for p in self.phases:
            p["updated_at"] = p["created_at"]

    def make_idea(self, n, t):
        p1, p2 = self.projects
        project = p1 if n <= 100 or n > 150 else p2
        phase = None
        if project is p1 and n % 25 == 0:
            phase = self.phases[1]  # created in the proposals phase
        if n == 120:
            phase = self.phases[2]  # a native survey response: no title, no body
        title, body = f"Idee {n}", f"<p>Begründung für Idee {n}: <b>dringend</b>.</p>"
        # A native survey response has neither (the standard takes it: its answers are the
        # content); idea 130 has neither too, which the standard refuses.
        if n in (120, 130):
            title, body = "", ""
        draft = n == 9
        return {"id": uid(f"idea-{n}"), "n": n, "project": project, "title": title, "body": body,
                "publication_status": "draft" if draft else "published", "phase": phase,
                "likes_count": n % 13, "dislikes_count": n % 3, "comments_count": 0,
                "location_point": wkt(round(7.09 + n / 10000, 4), 50.73) if n % 3 == 0 else None,
                "created_at": t, "published_at": None if draft else t + timedelta(minutes=1),
                "updated_at": t + timedelta(days=2)}

    def idea(self, n):
        return next(i for i in self.ideas if i["n"] == n)

    def change(self, now):
        """Between two syncs: idea 1 edited, idea 2 deleted (an Activity), idea 151 and a comment on it new.
        Each bumps project 1's updated_at (`touch: true`)."""
        edited = self.idea(1)
        edited["title"], edited["updated_at"] = "Idee 1 (überarbeitet)", now
        gone = self.idea(2)
        self.ideas.remove(gone)
        self.activities.append({"item_id": gone["id"], "item_type": "Idea", "acted_at": now, "created_at": now})
        new = self.make_idea(151, now)
        new["updated_at"] = new["published_at"]  # publishing saves the idea
        self.ideas.append(new)
        self.comments.append({"id": uid("comment-41"), "idea": new, "parent_id": None, "body": "Gute Idee!",
                              "likes_count": 1, "dislikes_count": 0, "created_at": now, "updated_at": now})
        self.projects[0]["updated_at"] = now

    def edit(self, n, title, now):
        i = self.idea(n)
        i["title"], i["updated_at"] = title, now
        i["project"]["updated_at"] = now
        return i

    # --- serializers (field order as in public_api/v2/*_serializer.rb) ----------------------

    def out_project(self, p):
        return {"id": p["id"], "title": p["title"], "description_html": p["description_html"],
                "description_preview": p["description_preview"], "slug": p["slug"], "folder_id": None,
                "href": f"{self.base}/de-DE/projects/{p['slug']}", "visible_to": "public", "images": [],
                "created_at": ts(p["created_at"]), "updated_at": ts(p["updated_at"]),
                "comments_count": sum(1 for c in self.comments if c["idea"]["project"] is p),
                "map_center_geojson": p["map_center_geojson"], "publication_status": p["publication_status"]}

    def out_phase(self, ph):
        project = next(p for p in self.projects if p["id"] == ph["project_id"])
        return {"id": ph["id"], "title": ph["title"], "description": "", "participation_method": ph["participation_method"],
                "project_id": ph["project_id"], "project_title": project["title"], "start_at": ph["start_at"],
                "end_at": ph["end_at"], "created_at": ts(ph["created_at"]), "updated_at": ts(ph["updated_at"]),
                "ideas_count": sum(1 for i in self.ideas if i["phase"] is ph), "baskets_count": 0, "votes_count": 0,
                "posting_enabled": True, "commenting_enabled": True, "reacting_enabled": True,
                "reacting_like_method": "unlimited", "reacting_like_limited_max": 10, "reacting_dislike_enabled": True,
                "reacting_dislike_method": "unlimited", "reacting_dislike_limited_max": 10,
                "voting_max_total": None, "voting_min_total": None}

    def out_idea(self, i):
        phase = i["phase"]
        kind = "idea" if phase is None else ("survey" if phase["participation_method"] == "native_survey" else "proposal")
        slug = f"idee-{i['n']}"
        return {"id": i["id"], "title": i["title"], "body": i["body"], "author_id": uid(f"user-{i['n'] % 17}"),
                "likes_count": i["likes_count"], "dislikes_count": i["dislikes_count"],
                "comments_count": sum(1 for c in self.comments if c["idea"] is i),
                "published_at": ts(i["published_at"]), "submitted_at": ts(i["published_at"]),
                "publication_status": i["publication_status"], "project_id": i["project"]["id"],
                "project_title": i["project"]["title"], "created_at": ts(i["created_at"]), "updated_at": ts(i["updated_at"]),
                "location_point": i["location_point"], "location_description": "Bonn" if i["location_point"] else None,
                "slug": slug, "budget": None, "baskets_count": 0, "votes_count": 0, "official_feedbacks_count": 0,
                "assignee_id": None, "assigned_at": None, "proposed_budget": None,
                "creation_phase_id": phase and phase["id"], "creation_phase_title": phase["title"] if phase else "",
                "survey_title": "", "images": [], "href": f"{self.base}/de-DE/ideas/{slug}",
                "status": "Eingereicht", "custom_field_values": {}, "type": kind}

    def out_comment(self, c):
        return {"id": c["id"], "body": c["body"], "author_id": uid(f"user-c{len(c['body']) % 7}"), "idea_id": c["idea"]["id"],
                "parent_id": c["parent_id"], "created_at": ts(c["created_at"]), "updated_at": ts(c["updated_at"]),
                "body_updated_at": None, "likes_count": c["likes_count"], "dislikes_count": c["dislikes_count"],
                "children_count": sum(1 for d in self.comments if d["parent_id"] == c["id"]),
                "publication_status": "published", "project_id": c["idea"]["project"]["id"]}

    def out_event(self, e):
        ml = lambda s: {"de-DE": s} if s else {}  # noqa: E731
        return {"id": e["id"], "project_id": e["project_id"], "title": e["title"], "description": e["description"],
                "location": e["location"], "location_point": e["location_point"], "attendees_count": 0,
                "maximum_attendees": None, "start_at": ts(e["start_at"]), "end_at": ts(e["end_at"]),
                "created_at": ts(e["created_at"]), "updated_at": ts(e["updated_at"]),
                "title_multiloc": ml(e["title"]), "description_multiloc": ml(e["description"]),
                "location_multiloc": ml(e["location"])}

    def out_deleted(self, a):
        return {"id": a["item_id"], "type": a["item_type"], "deleted_at": ts(a["acted_at"])}

    # --- HTTP -------------------------------------------------------------------------------

    def handle(self, method, path, query, headers, body):
        self.base = f"http://{headers.get('Host', '127.0.0.1')}"
        q = {k: v[-1] for k, v in query.items()}  # Rails keeps the last of repeated keys
        if method == "POST" and path == "/api/v2/authenticate":
            return self.authenticate(headers, body)
        token = (headers.get("Authorization") or "").split()
        if not token or token[-1] not in self.tokens:
            return 401, b"", []
        if method != "GET":
            return 404, {"status": 404, "error": "Not Found"}, []
        self.seen.append((path, q))
        parts = path.strip("/").split("/")[2:]  # after api/v2
        lists = {"projects": (self.projects, self.out_project), "phases": (self.phases, self.out_phase),
                 "ideas": (self.ideas, self.out_idea), "comments": (self.comments, self.out_comment),
                 "events": (self.events, self.out_event)}
        try:
            if len(parts) == 1 and parts[0] in lists:
                items, out = lists[parts[0]]
                if parts[0] == "ideas":
                    keys = [k for k in ("project_id", "author_id", "type") if k in q]  # IdeasFinder
                    items = [i for i in items if all(out(i)[k] == q[k] for k in keys)]
                if parts[0] == "phases":
                    items = self.range(self.range(items, q, "start_at"), q, "end_at")
                return 200, self.page(parts[0], items, out, q), []
            if len(parts) == 3 and parts[0] == "projects" and parts[2] == "phases":
                return 200, self.page("phases", [p for p in self.phases if p["project_id"] == parts[1]], self.out_phase, q), []
            if len(parts) == 2 and parts[1] == "deleted" and parts[0] in lists:
                kind = parts[0][:-1].capitalize()  # controller_name.classify
                rows = [a for a in self.activities if a["item_type"] == kind]
                rows = self.range(rows, q, "deleted_at", key="acted_at")
                return 200, self.page("deleted_items", rows, self.out_deleted, q), []
        except ValueError as e:  # PG::InvalidDatetimeFormat
            return 500, {"status": 500, "error": f"Internal Server Error ({e})"}, []
        return 404, {"status": 404, "error": "Not Found"}, []

    def authenticate(self, headers, body):
        ctype = headers.get("Content-Type", "")
        try:
            if "json" in ctype:
                auth = json.loads(body or b"{}").get("auth") or {}
            else:
                form = parse_qs((body or b"").decode())
                auth = {k: form.get(f"auth[{k}]", [None])[0] for k in ("client_id", "client_secret")}
        except (ValueError, AttributeError):
            return 400, {"status": 400, "error": "Bad Request"}, []
        if auth.get("client_id") != self.client_id or auth.get("client_secret") != self.client_secret:
            return 404, {"status": 404, "error": "Not Found"}, []
        segment = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
        token = ".".join([segment({"typ": "JWT", "alg": "HS256"}),
                          segment({"sub": self.client_id, "exp": int(time.time()) + 86400}), uuid.uuid4().hex])
        self.tokens.add(token)
        return 201, {"jwt": token}, []

    @staticmethod
    def range(items, q, param, key=None):
        """`param=FROM,TO` as `key BETWEEN FROM AND TO` (an empty side is open)."""
        if param not in q:
            return items
        bounds = (q[param].split(",") + [""])[:2]
        lo = pg_time(bounds[0], datetime.min.replace(tzinfo=timezone.utc))
        hi = pg_time(bounds[1], datetime.max.replace(tzinfo=timezone.utc))
        key = key or param

        def value(item):
            v = item[key]
            if isinstance(v, str):  # a phase's date
                v = datetime.fromisoformat(v).replace(tzinfo=timezone.utc)
            return v

        return [i for i in items if i[key] is not None and lo <= value(i) <= hi]

    def page(self, root, items, out, q):
        items = self.range(self.range(items, q, "created_at"), q, "updated_at")
        items = sorted(items, key=lambda i: i["created_at"], reverse=True)
        try:
            per = min(int(q.get("page_size") or 25), 100)
        except ValueError:
            per = 0  # "abc".to_i
        per = max(per, 1)
        try:
            number = max(int(q.get("page_number") or 1), 1)
        except ValueError:
            number = 1
        chunk = items[(number - 1) * per:number * per]
        return {root: [out(i) for i in chunk], "meta": {"current_page": number, "total_pages": math.ceil(len(items) / per)}}


def deliver(hub_url, source, secret, event, data, delivery_id=None, signature=None):
    """POSTs a webhook as Go Vocal's Webhooks::DeliveryJob does: the flat PayloadService body, compact
    JSON as Rails writes it (`<`, `>`, `&` escaped), signed over the raw bytes. `data` is the item as
    the PublicApi::V2 serializer renders it. `signature` replaces the right one (to test a wrong one)."""
    item_type, action = event.split(".", 1)
    payload = {"id": str(uuid.uuid4()), "event_type": event,
               "acted_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "action": action,
               "user_id": data.get("author_id"), "project_id": data.get("project_id"), "tenant_id": TENANT,
               "item_type": item_type.capitalize(), "item_id": data.get("id"), "item": data}
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    raw = raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()
    if signature is None:
        signature = "sha256=" + base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    headers = {"Content-Type": "application/json", "X-GoVocal-Event": event, "X-GoVocal-Signature": signature,
               "X-GoVocal-Delivery-ID": delivery_id or str(uuid.uuid4()), "User-Agent": "GoVocal-Webhooks/1.0"}
    return requests.post(f"{hub_url}/api/v1/webhooks/govocal/{source}", data=raw, headers=headers, timeout=10)


def when(s):
    return datetime.fromisoformat(s) if s else None


def quiet(tool, seconds=3.0, limit=30.0):
    """Waits until the tool has had no request for `seconds` (a sync the hub's worker runs is over)."""
    end, last, since = time.monotonic() + limit, tool.control.requests, time.monotonic()
    while time.monotonic() < end:
        time.sleep(0.25)
        if tool.control.requests != last:
            last, since = tool.control.requests, time.monotonic()
        elif time.monotonic() - since >= seconds:
            return
    raise AssertionError("the tool is still being asked after 30 s")


def scenario(binary, database, hub, suffix):
    tool = GoVocal()
    now = datetime.now(timezone.utc).replace(microsecond=0)  # so that the API's milliseconds compare equal
    tool.seed(now)
    server, url = serve(tool)
    name = f"govocal-{suffix}"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(tool.credentials(), f)
    try:
        added = json.loads(cli(binary, database, "source", "add", "--kind", "govocal", "--name", name, "--url", url,
                               "--municipality", "05315000", "--credentials-file", f.name, "--interval", "60").stdout)
    finally:
        os.unlink(f.name)
    check(added["name"] == name and added["credentials"] is True, added)

    # First sync: a full walk; the first request (the authentication) is refused with Retry-After: 1.
    out = first_sync(binary, database, name, tool)
    check("1 rejected" in out, out)  # idea 130, an idea without title and text; the draft is not counted
    first_requests = tool.control.requests
    processes = records(hub, "processes", name)
    contributions = records(hub, "contributions", name)
    events = records(hub, "events", name)
    check(len(processes) == 2, processes)
    check(len(contributions) == 148 + 40, len(contributions))  # 150 ideas - draft - idea 130, 40 comments
    check(len(events) == 3, events)
    p1, p2 = (next(p for p in processes if p["external_id"] == tool.projects[k]["id"]) for k in (0, 1))
    check(p1["status"] == "open" and p1["municipality"] == "05315000" and p1["provenance"]["via"] == "govocal", p1)
    check(p1["title"] == {"de": "Radverkehr in Musterstadt"}, p1)
    check(p1["description"] == {"de": "Wo fehlen Radwege? Sagen Sie es uns & der Stadt."}, p1)
    check(p1["url"] == f"{url}/de-DE/projects/radverkehr", p1)
    check(p1["geometry"] == {"type": "Point", "coordinates": [7.0982, 50.7374]}, p1)
    phases = sorted(p1["phases"], key=lambda ph: ph["start"])
    check([ph["title"] for ph in phases] == [{"de": "Ideen sammeln"}, {"de": "Vorschläge"}], phases)
    check(when(phases[0]["start"]) == datetime.fromisoformat(tool.phases[0]["start_at"] + "T00:00:00+00:00"), phases)
    check(when(phases[0]["end"]) == datetime.fromisoformat(tool.phases[0]["end_at"] + "T23:59:59+00:00"), phases)
    check(phases[1].get("end") is None, "an open-ended phase got an end")
    check(p2["status"] == "closed", p2)  # archived
    by_id = {c["external_id"]: c for c in contributions}
    check(tool.idea(9)["id"] not in by_id and tool.idea(130)["id"] not in by_id, "the draft or the empty idea was taken")
    survey = by_id[tool.idea(120)["id"]]
    check(survey["kind"] == "survey-response" and "text" not in survey and "title" not in survey, survey)
    three = by_id[tool.idea(3)["id"]]
    check(three["kind"] == "idea" and three["process"] == tool.projects[0]["id"], three)
    check(three["title"] == {"de": "Idee 3"} and three["text"] == {"de": "Begründung für Idee 3: dringend."}, three)
    check(three["votes"] == {"up": 3, "down": 0}, three)
    check(three["location"] == {"type": "Point", "coordinates": [7.0903, 50.73]}, three)  # from WKT
    check(when(three["created_at"]) == tool.idea(3)["published_at"], three)  # published_at, not created_at
    check(by_id[tool.idea(25)["id"]]["kind"] == "proposal", by_id[tool.idea(25)["id"]])
    first, reply = tool.comments[0], tool.comments[3]
    c1 = by_id[first["id"]]
    check(c1["kind"] == "comment" and c1["parent"] == first["idea"]["id"], c1)  # a top-level comment answers its idea
    check(c1["text"] == {"de": first["body"]} and c1["votes"] == {"up": 1, "down": 1}, c1)
    check(by_id[reply["id"]]["parent"] == tool.comments[2]["id"], by_id[reply["id"]])
    e1 = next(e for e in events if e["external_id"] == tool.events[0]["id"])
    check(e1["title"] == {"de": "Auftaktveranstaltung Radverkehr"} and e1["description"] == {"de": "Vorstellung der Planung"}, e1)
    check(e1["process"] == tool.projects[0]["id"] and when(e1["start"]) == tool.events[0]["start_at"], e1)
    place = e1.get("place") or {}
    check("Rathaus, Ratssaal" in (place.get("name"), place.get("address")), e1)  # the API's `location`
    check(place.get("location") == {"type": "Point", "coordinates": [7.0982, 50.7374]}, e1)  # from WKT
    check(next(e for e in events if e["external_id"] == tool.events[1]["id"]).get("end") is None, events)

    # Nothing changed: an incremental sync writes nothing.
    out = cli(binary, database, "sync", name).stdout
    check("0 created, 0 updated" in out and "0 deleted" in out, out)

    # Idea 1 edited, idea 2 deleted, idea 151 and a comment new; project 1 touched by all of them.
    tool.change(datetime.now(timezone.utc))
    tool.seen.clear()
    tool.control.requests = 0
    out = cli(binary, database, "sync", name).stdout
    check("2 created, 2 updated" in out and "1 deleted" in out, out)  # updated: idea 1 and project 1
    incremental_requests = tool.control.requests
    check(any(p == "/api/v2/ideas" and "updated_at" in q for p, q in tool.seen), f"no updated_at filter on ideas: {tool.seen}")
    check(any(p == "/api/v2/ideas/deleted" and "deleted_at" in q for p, q in tool.seen), f"no deleted_at on ideas/deleted: {tool.seen}")
    contributions = records(hub, "contributions", name)
    check(len(contributions) == 189, len(contributions))
    by_id = {c["external_id"]: c for c in contributions}
    check(by_id[tool.idea(1)["id"]]["title"] == {"de": "Idee 1 (überarbeitet)"}, "the edit is missing")
    check(uid("idea-2") not in by_id, "the deleted idea is still listed")
    check(uid("idea-151") in by_id and by_id[uid("comment-41")]["parent"] == uid("idea-151"), "the new idea or comment")
    since = records(hub, "contributions", name, modified_since="2000-01-01T00:00:00Z")
    check(next(c for c in since if c["external_id"] == uid("idea-2"))["deleted"] is True, "no tombstone for the deleted idea")

    # Webhooks: a wrong signature and an unknown source are refused, a signed delivery brings a sync
    # (run by the hub's job worker) that shows the change without `mitsprache sync`.
    edited = tool.edit(3, "Idee 3 (per Webhook geändert)", datetime.now(timezone.utc))
    data = tool.out_idea(edited)
    forged = "sha256=" + base64.b64encode(b"x" * 32).decode()
    wrong = deliver(hub, name, tool.webhook_secret, "idea.changed", data, signature=forged)
    check(wrong.status_code == 401, f"wrong signature: {wrong.status_code} {wrong.text}")
    check(deliver(hub, f"{name}-unbekannt", tool.webhook_secret, "idea.changed", data).status_code == 404, "unknown source")
    delivery = str(uuid.uuid4())
    right = deliver(hub, name, tool.webhook_secret, "idea.changed", data, delivery_id=delivery)
    check(right.status_code == 202, f"signed delivery: {right.status_code} {right.text}")
    deadline = time.monotonic() + 20
    while True:
        three = next(c for c in records(hub, "contributions", name) if c["external_id"] == edited["id"])
        if three["title"] == {"de": "Idee 3 (per Webhook geändert)"}:
            break
        check(time.monotonic() < deadline, f"the webhook's change did not arrive within 20 s: {three['title']}")
        time.sleep(0.5)
    again = deliver(hub, name, tool.webhook_secret, "idea.changed", data, delivery_id=delivery)  # at-least-once
    check(again.status_code in (200, 202), f"a repeated delivery: {again.status_code} {again.text}")
    quiet(tool)

    # A walk that breaks half-way changes nothing.
    tool.edit(4, "Darf nicht ankommen", datetime.now(timezone.utc))
    broken_sync(binary, database, name, tool, max(2, incremental_requests // 2))
    titles = [c.get("title") for c in records(hub, "contributions", name)]
    check({"de": "Darf nicht ankommen"} not in titles, "half a sync was written")
    server.shutdown()
    return f"{first_requests} requests a full walk, {incremental_requests} an incremental one; webhook sync, tombstones, refusal, break"
