"""A meinBerlin server (liqd/a4-meinberlin on adhocracy4, Django REST Framework), and the scenario that
syncs it through `mitsprache`.

What the code says (liqd/a4-meinberlin HEAD 5b49e713 of 2026-06-25, liqd/adhocracy4 HEAD ee79cd8c of
2026-06-11; paths in those repositories):

Project list. `GET /api/projects/` (`meinberlin/config/urls.py` registers
`meinberlin/apps/projects/api.py:ProjectListViewSet` at `projects`) answers a plain JSON ARRAY, not
paged (no pagination class; `REST_FRAMEWORK` sets only the schema class). It holds the public and
semipublic projects (`project_type` a4projects.Project or meinberlin_bplan.Bplan, not draft, not
archived), ordered by `created`. `?status=activeParticipation|futureParticipation|pastParticipation`
filters (`projects/filters.py:StatusFilter`) and switches to the Active/Future/PastProjectSerializer.
The answer comes from a cache (`cache.get("projects_" + status)`) that a Celery task refills
(`projects/tasks.py`), so it can lag. Fields (`projects/serializers.py:ProjectSerializer.Meta.fields`, in
this order): `access` (adhocracy4 `Access` enum: 1 public, 2 semipublic), `active_phase` (false, or
`[progress %, "40 Tage", end ISO]`), `cost` (""), `created_or_modified` (ISO, see below),
`description` (the project's plain short description, <= 250 chars; the long HTML `information` is not
in the API), `district` (district name or "Gesamtstädtisch"), `future_phase` / `past_phase` (false or
ISO), `organisation` (name), `participation` (1 = consultation), `participation_active` (bool),
`participation_string` ("laufend", "startet am 01.06.2026", "startet in der Zukunft", "abgeschlossen"),
`plan_title`, `plan_url` (null), `point` (null, or a GeoJSON Feature from `PointSerializerMixin`
(`adhocracy4/maps/mixins.py`): `{"type": "Feature", "geometry": {"type": "Point", ...}, "properties":
{"strasse", "haus", "plz"}}`), `point_label` (""), `published_projects_count` (0), `status` (0 running,
1 future, 2 past), `subtype` ("default", "external" for external projects and Bplans), `tile_image`
(URL or ""), `tile_image_alt_text`, `tile_image_copyright`, `title` (the project's `name`), `topics`
(list of topic codes), `type` ("project"), `url` (RELATIVE `/projekte/<slug>/`; external projects and
Bplans: their absolute external URL), `id` (int). No module ids, no phases.

Module ids. No public API names a project's modules. The project page (`url`,
`projects/templates/meinberlin_projects/includes/project_participation.html` with
`module-tile/module_tile.html`) links each online module as `<a href="/projekte/module/<module-slug>/"
class="module-tile">`; the module page renders the list widget (`ideas/templatetags/react_ideas.py`,
`mapideas/templatetags/react_mapideas.py`, `budgeting/templatetags/react_proposals.py`) as
`<div data-mb-widget="ideas|map-ideas|proposals" data-attributes="{&quot;apiUrl&quot;:
&quot;/api/modules/128/ideas/&quot;, ...}">` (JSON, HTML-escaped by format_html). So a connector has to
read two HTML pages per project, or be configured with the module ids.

Module contributions. `adhocracy4/api/routers.py:ModuleRouterMixin` prefixes `modules/(?P<module_pk>\\d+)/`;
registered: `ideas`, `mapideas`, `proposals` (budgeting), `kiezkasse-proposals`, `topics`, `map-topics`,
`documents`, `questions`. List only (no detail endpoint). Trailing slash required.
`ideas/api.py:BaseIdeaViewSet` pages with `contrib/api.py:APIPagination` (DRF PageNumberPagination,
15 a page, `?page=` (also `last`), `?page_size=` without a maximum; a page out of range is 404
`{"detail": "Ungültige Seite."}`). Answer keys, in order: `count`, `next`, `previous` (absolute URLs
with the query's keys sorted, or null), `results`, `page_size` (ALWAYS 15, the class attribute, even
with `?page_size=`), `page_count`, `page_elided_range` (Django's `get_elided_page_range`, on_each_side=1,
on_ends=1: `[1, 2, 3]` or `[1, 2, "…", 9]`), `locale` (`get_language()`), `permissions`
(`{"view_comment_count", "view_rate_count"}`), `filters` (choices for the list UI), and for mapideas
`polygon` (the module's area). The DEFAULT ORDER IS `dailyrandom`: the pks shuffled with
`random.seed(str(date.today()))` (`contrib/filters.py:OrderingFilterWithDailyRandom`), i.e. a new order
every day; `?ordering=-created` (also `created`, `comment_count`, `positive_rating_count`, with `-`)
gives a stable one. `IdeaSerializer` (`ideas/serializers.py`) fields, in this order:
`additional_item_badges_for_list_count`, `comment_count`, `created`, `creator` (username),
`get_moderator_status_display` (German label or null), `item_badges_for_list` (up to 3 of
`["moderator_status", label, code]`, `["budget", ...]`, `["point_label", label]`, `["category", name]`,
`["label", name]`), `moderator_status` (null, CONSIDERATION, QUALIFIED, REJECTED, ACCEPTED:
`moderatorfeedback/models.py:DEFAULT_CHOICES`), `modified` (null until edited), `name`,
`negative_rating_count`, `pk` (int; the adhocracy4 `Item` pk, unique across all item types),
`positive_rating_count`, `reference_number` ("2026-00901", the model property), `url` (relative
`/ideas/2026-00901/`, `/mapideas/...`, `/budgeting/...`). There is NO description text. `MapIdeaSerializer`
adds `point` = the model's a4 `PointField` (a JSONField) as stored: a GeoJSON Feature `{"type":
"Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [lng, lat]}}`
(`meinberlin/test/factories/mapideas.py`). `ProposalSerializer` adds `is_archived`,
`session_token_voted`, `vote_allowed`, `vote_count`, `point`. Deleted ideas are gone (hard delete).

Dates. `created`, `modified` of ideas and `created_or_modified`, `future_phase`, `past_phase`,
`active_phase[2]` of projects are DRF `DateTimeField().to_representation` (ModelSerializer fields resp.
`fields.DateTimeField()` in `CommonFields.get_created_or_modified`): ISO 8601 in the current time zone
(`TIME_ZONE = "Europe/Berlin"`, `USE_TZ = True`, `config/settings/base.py`), microseconds when nonzero,
e.g. `"2026-05-02T14:00:00.123456+02:00"` (`Z` only for UTC). The display strings of
`adhocracy4/api/dates.py:get_datetime_display` (`"2. Mai 2026, 14:00"`: German `DATE_FORMAT` "j. F Y" +
", " + "H:i", no LocaleMiddleware, LANGUAGE_CODE "de-DE") are used only by the async comments
(`adhocracy4/comments_async/serializers.py`, `/api/contenttypes/<ct>/objects/<pk>/comments/`, 20 a page)
and reports, not by projects or ideas.

No change filter anywhere: a full walk each time, deletions by absence.

Suggested mapping (the scenario below assumes it): project → process `str(id)`, title {"de": title},
description {"de": description}, status from `status` (0 open, 1 upcoming, 2 closed), url BASE + url,
geometry = point.geometry, topics = topics, updated_at = created_or_modified; idea → contribution
`str(pk)`, kind idea (proposals: proposal), title {"de": name}, no text, votes {"up":
positive_rating_count, "down": negative_rating_count}, location = point.geometry (mapideas), process =
the project's id, created_at = created, updated_at = modified or created.

Not verified: the German labels of the `filters` block, `get_map_settings` in the mapideas widget's
attributes, rate limits.
"""

import html
import json
import random
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from run import broken_sync, check, cli, first_sync, records
from servers import Control, serve

BERLIN = ZoneInfo("Europe/Berlin")
STATUS = {None: None, "CONSIDERATION": "wird geprüft", "QUALIFIED": "für nächste Phase qualifiziert",
          "REJECTED": "wird nicht umgesetzt", "ACCEPTED": "wird umgesetzt"}
ORDERING = {"created", "comment_count", "positive_rating_count", "dailyrandom"}


def iso(t):
    """DRF's DateTimeField: ISO 8601 in Europe/Berlin, `Z` for UTC only."""
    return None if t is None else t.astimezone(BERLIN).isoformat()


def elided(number, pages, each=1, ends=1):
    """Django's Paginator.get_elided_page_range(number, on_each_side=1, on_ends=1)."""
    if pages <= (each + ends) * 2:
        return list(range(1, pages + 1))
    out = [*range(1, ends + 1), "…", *range(number - each, number + 1)] if number > 1 + each + ends + 1 else [*range(1, number + 1)]
    if number < pages - each - ends - 1:
        return out + [*range(number + 1, number + each + 1), "…", *range(pages - ends + 1, pages + 1)]
    return out + [*range(number + 1, pages + 1)]


class MeinBerlin:
    def __init__(self):
        self.control = Control()
        self.projects, self.modules, self.ideas = [], [], []

    def seed(self, now):
        """Two projects, each with one module: a running idea collection (24 ideas, one without a name)
        and a past map-idea module (16 map ideas)."""
        self.now = now
        self.projects = [
            {"id": 101, "name": "Ideen für den Mauerpark", "slug": "ideen-fuer-den-mauerpark",
             "description": "Was wünschen Sie sich für den Mauerpark? Sammeln Sie mit uns Ideen.",
             "district": "Pankow", "organisation": "Bezirksamt Pankow", "topics": ["URB", "ENV"],
             "point": {"type": "Point", "coordinates": [13.4025, 52.543]},
             "address": {"strasse": "Bernauer Straße", "haus": "63", "plz": "13355"},
             "created": now - timedelta(days=120), "modified": now - timedelta(days=10)},
            {"id": 102, "name": "Kiezfonds Pankow 2026", "slug": "kiezfonds-pankow-2026",
             "description": "Vorschläge für kleine Projekte im Kiez.", "district": "Pankow",
             "organisation": "Bezirksamt Pankow", "topics": [], "point": None, "address": None,
             "created": now - timedelta(days=300), "modified": None},
        ]
        self.modules = [
            {"pk": 201, "slug": "ideensammlung-mauerpark", "name": "Ideensammlung", "project": 101, "type": "ideas",
             "start": now - timedelta(days=20), "end": now + timedelta(days=40)},
            {"pk": 202, "slug": "vorschlaege-auf-der-karte", "name": "Vorschläge auf der Karte", "project": 102,
             "type": "mapideas", "start": now - timedelta(days=200), "end": now - timedelta(days=100)},
        ]
        self.ideas = [self.make(201, 900 + n, now - timedelta(days=19) + timedelta(hours=n)) for n in range(1, 25)]
        self.ideas += [self.make(202, 950 + n, now - timedelta(days=190) + timedelta(hours=n)) for n in range(1, 17)]

    def make(self, module, pk, created):
        n = pk % 50
        idea = {"pk": pk, "module": module, "name": "" if pk == 907 else f"Idee {pk}: Mehr Bänke am Weg {n}",
                "creator": f"nutzer{n % 9}", "created": created.replace(microsecond=pk * 101 % 1_000_000),
                "modified": created + timedelta(days=1) if n % 5 == 0 else None,
                "moderator_status": [None, "CONSIDERATION", "ACCEPTED", None, "REJECTED"][n % 5],
                "comment_count": n % 4, "positive_rating_count": n % 7, "negative_rating_count": n % 2,
                "category": "Grünflächen" if n % 3 == 0 else None}
        if module == 202:
            idea["point"] = {"type": "Feature", "properties": {},
                             "geometry": {"type": "Point", "coordinates": [round(13.41 + n / 1000, 3), 52.55]}}
            idea["point_label"] = f"Florastraße {n}"
        return idea

    def change(self, now):
        """Idea 902 renamed, idea 903 deleted, idea 925 new."""
        edited = self.idea(902)
        edited["name"], edited["modified"] = "Idee 902 (überarbeitet)", now
        self.ideas.remove(self.idea(903))
        self.ideas.append(self.make(201, 925, now))

    def idea(self, pk):
        return next(i for i in self.ideas if i["pk"] == pk)

    # --- serializers --------------------------------------------------------------------------

    def out_project(self, p, now):
        modules = [m for m in self.modules if m["project"] == p["id"]]
        active = [m for m in modules if m["start"] <= now < m["end"]]
        future = sorted((m for m in modules if m["start"] > now), key=lambda m: m["start"])
        past = sorted((m for m in modules if m["end"] < now), key=lambda m: m["end"], reverse=True)
        if active:
            m = active[0]
            progress = round((now - m["start"]) / (m["end"] - m["start"]) * 100)
            days = (m["end"] - now).days
            active_phase, string, status = [progress, f"{days} Tage" if days > 1 else "1 Tag", iso(m["end"])], "laufend", 0
        elif future:
            active_phase, string, status = False, "startet am " + future[0]["start"].astimezone(BERLIN).strftime("%d.%m.%Y"), 1
        else:
            active_phase, string, status = False, "abgeschlossen", 2
        point = None
        if p["point"]:
            point = {"type": "Feature", "geometry": p["point"], "properties": p["address"]}
        return {"access": 1, "active_phase": active_phase, "cost": "",
                "created_or_modified": iso(p["modified"] or p["created"]), "description": p["description"],
                "district": p["district"], "future_phase": iso(future[0]["start"]) if future else False,
                "organisation": p["organisation"], "participation": 1, "participation_active": status < 2,
                "participation_string": string, "past_phase": iso(past[0]["end"]) if past else False,
                "plan_title": None, "plan_url": None, "point": point, "point_label": "", "published_projects_count": 0,
                "status": status, "subtype": "default", "tile_image": "", "tile_image_alt_text": None,
                "tile_image_copyright": None, "title": p["name"], "topics": p["topics"], "type": "project",
                "url": f"/projekte/{p['slug']}/", "id": p["id"]}

    def out_idea(self, i, kind):
        badges = []
        if i["moderator_status"]:
            badges.append(["moderator_status", STATUS[i["moderator_status"]], i["moderator_status"]])
        if i.get("point_label"):
            badges.append(["point_label", i["point_label"]])
        if i["category"]:
            badges.append(["category", i["category"]])
        ref = f"{i['created'].astimezone(BERLIN).year}-{i['pk']:05d}"
        out = {"additional_item_badges_for_list_count": max(len(badges) - 3, 0), "comment_count": i["comment_count"],
               "created": iso(i["created"]), "creator": i["creator"],
               "get_moderator_status_display": STATUS[i["moderator_status"]], "item_badges_for_list": badges[:3],
               "moderator_status": i["moderator_status"], "modified": iso(i["modified"]), "name": i["name"],
               "negative_rating_count": i["negative_rating_count"], "pk": i["pk"],
               "positive_rating_count": i["positive_rating_count"], "reference_number": ref, "url": f"/{kind}/{ref}/"}
        if kind == "mapideas":
            out["point"] = i["point"]
        return out

    # --- HTTP -------------------------------------------------------------------------------

    def handle(self, method, path, query, headers, body):
        now = datetime.now(timezone.utc)
        q = {k: v[-1] for k, v in query.items()}
        page = lambda text: (200, f"<!DOCTYPE html><html lang=\"de\"><body>{text}</body></html>",  # noqa: E731
                             [("Content-Type", "text/html; charset=utf-8")])
        not_found = (404, {"detail": "Nicht gefunden."}, [])
        if method != "GET":
            return 405, {"detail": f"Methode \"{method}\" nicht erlaubt."}, []
        if path == "/api/projects/":
            projects = self.projects
            kinds = {"activeParticipation": 0, "futureParticipation": 1, "pastParticipation": 2}
            if q.get("status") in kinds:
                projects = [p for p in projects if self.out_project(p, now)["status"] == kinds[q["status"]]]
            return 200, [self.out_project(p, now) for p in sorted(projects, key=lambda p: p["created"])], []
        parts = path.strip("/").split("/")
        if parts[:1] == ["projekte"] and len(parts) == 2:
            p = next((p for p in self.projects if p["slug"] == parts[1]), None)
            if p is None:
                return 404, "<h1>Seite nicht gefunden</h1>", [("Content-Type", "text/html; charset=utf-8")]
            tiles = "".join(f'<li><a href="/projekte/module/{m["slug"]}/" class="module-tile"><p class="module-tile__title '
                            f'title-3">{html.escape(m["name"])}</p></a></li>' for m in self.modules if m["project"] == p["id"])
            return page(f'<h1>{html.escape(p["name"])}</h1><section aria-labelledby="project-participation" class="block">'
                        f'<h2 id="project-participation">Online-Beteiligung</h2><ul class="list--clean">{tiles}</ul></section>')
        if parts[:2] == ["projekte", "module"] and len(parts) == 3:
            m = next((m for m in self.modules if m["slug"] == parts[2]), None)
            if m is None:
                return 404, "<h1>Seite nicht gefunden</h1>", [("Content-Type", "text/html; charset=utf-8")]
            attributes = {"apiUrl": f"/api/modules/{m['pk']}/{m['type']}/"}
            if m["type"] == "mapideas":
                attributes["map"] = {"polygon": POLYGON, "baseUrl": "https://maps.berlin.de/tiles/{z}/{x}/{y}.png"}
            widget = {"ideas": "ideas", "mapideas": "map-ideas"}[m["type"]]
            return page(f'<h1>{html.escape(m["name"])}</h1><div data-mb-widget="{widget}" '
                        f'data-attributes="{html.escape(json.dumps(attributes))}"></div>')
        if parts[:2] == ["api", "modules"] and len(parts) == 4 and parts[3] in ("ideas", "mapideas"):
            if not path.endswith("/"):
                return 301, b"", [("Location", path + "/" + (("?" + urlencode(q)) if q else ""))]
            m = next((m for m in self.modules if str(m["pk"]) == parts[2]), None)
            if m is None:
                return not_found
            ideas = [i for i in self.ideas if i["module"] == m["pk"]] if m["type"] == parts[3] else []
            return self.page_of(ideas, parts[3], m, q, f"http://{headers.get('Host', '127.0.0.1')}{path}")
        return not_found

    def page_of(self, ideas, kind, module, q, url):
        ideas = sorted(ideas, key=lambda i: i["created"], reverse=True)  # get_queryset's order_by("-created")
        fields = [f for f in (q.get("ordering") or "").split(",") if f.strip().lstrip("-") in ORDERING]
        if not fields or fields == ["dailyrandom"]:
            pks = [i["pk"] for i in ideas]
            random.Random(str(datetime.now(BERLIN).date())).shuffle(pks)
            ideas = sorted(ideas, key=lambda i: pks.index(i["pk"]))
        else:
            for f in reversed(fields):
                ideas = sorted(ideas, key=lambda i: i[f.lstrip("-")], reverse=f.startswith("-"))
        try:
            size = int(q.get("page_size", 15))
            size = size if size > 0 else 15
        except ValueError:
            size = 15
        pages = max(1, -(-len(ideas) // size))
        try:
            number = pages if q.get("page") == "last" else int(q.get("page", 1))
            if not 1 <= number <= pages:
                raise ValueError
        except ValueError:
            return 404, {"detail": "Ungültige Seite."}, []

        def link(n):
            if n < 1 or n > pages:
                return None
            params = {k: v for k, v in q.items() if k != "page"}
            if n > 1:
                params["page"] = str(n)
            return url + ("?" + urlencode(sorted(params.items())) if params else "")

        out = {"count": len(ideas), "next": link(number + 1), "previous": link(number - 1),
               "results": [self.out_idea(i, kind) for i in ideas[(number - 1) * size:number * size]],
               "page_size": 15, "page_count": pages, "page_elided_range": elided(number, pages), "locale": "de-DE",
               "permissions": {"view_comment_count": True, "view_rate_count": module["end"] > datetime.now(timezone.utc)},
               "filters": FILTERS}
        if kind == "mapideas":
            out["polygon"] = POLYGON
        return 200, out, []


FILTERS = {  # IdeaFilterInfoMixin.list; a module with categories or labels has those too
    "moderator_status": {"label": "Status", "choices": [["", "Alle"]] + [[k, v] for k, v in STATUS.items() if k]},
    "ordering": {"label": "Sortierung", "default": "dailyrandom",
                 "choices": [["-created", "Neueste"], ["-positive_rating_count", "Beliebteste"],
                             ["-comment_count", "Meist kommentiert"], ["dailyrandom", "Zufällig"]]},
}
POLYGON = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {
    "type": "Polygon", "coordinates": [[[13.39, 52.54], [13.44, 52.54], [13.44, 52.57], [13.39, 52.57], [13.39, 52.54]]]}}]}


def when(s):
    return datetime.fromisoformat(s) if s else None


def scenario(binary, database, hub, suffix):
    tool = MeinBerlin()
    now = datetime.now(timezone.utc)
    tool.seed(now)
    server, url = serve(tool)
    name = f"meinberlin-{suffix}"
    added = json.loads(cli(binary, database, "source", "add", "--kind", "meinberlin", "--name", name, "--url", url,
                           "--municipality", "05315000", "--interval", "60").stdout)
    check(added["name"] == name and added["credentials"] is False, added)

    out = first_sync(binary, database, name, tool)
    check("1 rejected" in out and "907" in out, out)  # idea 907 has no name, and the list has no text
    processes = records(hub, "processes", name)
    contributions = records(hub, "contributions", name)
    check(len(processes) == 2, processes)
    check(len(contributions) == 39, len(contributions))  # 24 + 16, one unmappable
    park = next(p for p in processes if p["external_id"] == "101")
    check(park["status"] == "open" and park["title"] == {"de": "Ideen für den Mauerpark"}, park)
    check(park["url"] == f"{url}/projekte/ideen-fuer-den-mauerpark/" and park["provenance"]["via"] == "meinberlin", park)
    check(park["geometry"] == {"type": "Point", "coordinates": [13.4025, 52.543]}, park)
    check(when(park["updated_at"]) == tool.projects[0]["modified"], park)  # created_or_modified
    check(next(p for p in processes if p["external_id"] == "102")["status"] == "closed", processes)
    by_id = {c["external_id"]: c for c in contributions}
    one = by_id["901"]
    check(one["kind"] == "idea" and one["process"] == "101" and one["title"] == {"de": "Idee 901: Mehr Bänke am Weg 1"}, one)
    check(one["votes"] == {"up": 1, "down": 1} and when(one["created_at"]) == tool.idea(901)["created"], one)
    map_idea = by_id["953"]
    check(map_idea["process"] == "102" and map_idea["location"] == {"type": "Point", "coordinates": [13.413, 52.55]}, map_idea)
    check(when(by_id["905"]["updated_at"]) == tool.idea(905)["modified"], by_id["905"])  # modified, when set

    out = cli(binary, database, "sync", name).stdout
    check("0 created, 0 updated" in out and "0 deleted" in out, out)

    tool.change(datetime.now(timezone.utc))
    tool.control.requests = 0
    out = cli(binary, database, "sync", name).stdout
    check("1 created, 1 updated" in out and "1 deleted" in out, out)
    third_requests = tool.control.requests
    contributions = records(hub, "contributions", name)
    check(len(contributions) == 39, len(contributions))
    by_id = {c["external_id"]: c for c in contributions}
    check(by_id["902"]["title"] == {"de": "Idee 902 (überarbeitet)"} and "925" in by_id and "903" not in by_id, "edit, new, deleted")
    since = records(hub, "contributions", name, modified_since="2000-01-01T00:00:00Z")
    check(next(c for c in since if c["external_id"] == "903")["deleted"] is True, "no tombstone for the deleted idea")

    tool.idea(904)["name"], tool.idea(904)["modified"] = "Darf nicht ankommen", datetime.now(timezone.utc)
    broken_sync(binary, database, name, tool, max(2, third_requests // 2))
    titles = [c.get("title") for c in records(hub, "contributions", name)]
    check({"de": "Darf nicht ankommen"} not in titles, "half a sync was written")
    server.shutdown()
    return f"{third_requests} requests a walk (project and module pages scraped for module ids); deletion, refusal, break"
