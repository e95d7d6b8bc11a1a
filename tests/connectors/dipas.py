"""A DIPAS test server answering the PDS interface as Drupal does, and the scenario that drives
the `dipas` connector.

Shapes checked in citysciencelab/dipas-unitac (HEAD e4f2322), drupal/modules/custom/dipas/:
- dipas.routing.yml: `/dipas-pds/projects/{proj_ID}/{type}/{contr_ID}/{comments}` (defaults
  proj_ID '0' = all projects, type 'none'), under the Drupal base `/drupal`; no paging, no filters.
- src/Service/RestApi.php requestPDSEndpoint: the answer is `{"type": "FeatureCollection",
  "features": [...]}`, JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES.
- src/Plugin/PDSResponse/PDSProjectList.php: properties id (the domain id, a string), nameFull,
  description (`strip_tags` of the project-info node's text paragraphs: plain text, entities and
  line breaks left as they are), dateStart/dateEnd, dipasPhase, website (`https://{domain}.{host}/#`),
  owner, projectOwner, publisher, standardCategories, projectContributionType, dipasMainDistrict,
  projectTopics, referenceSystem "4326", hasParticipatoryText (the nids of the project's
  published *contributions*), dipasCategoriesCluster (null without an NLP clustering). Internal
  proceedings (`Export.proceeding_is_internal`) are left out. The geometry is the project area
  (an empty object `{}` when none is set).
- src/TaxonomyTermFunctionsTrait.php: projectTopics, projectOwner, dipasMainDistrict (from
  getAssignedTerms) and standardCategories, projectContributionType (getTermList) are PHP arrays
  *keyed by term id* -- JSON objects `{"12": {"id": "12", "name": "Verkehr", "description": "",
  "weight": "0"}}` (dipasMainDistrict adds "field_color"), and `[]` when empty.
- src/Plugin/ResponseKey/DateTimeTrait.php: times are `Y-m-d\\TH:i:s\\Z`. dateCreated is converted
  to UTC correctly; dateStart/dateEnd are called with isUTC=TRUE, so the site's *local* wall time
  is labelled Z; project_end is a day (ProjectDataTrait counts the project open until +86399 s).
- src/Plugin/PDSResponse/PDSContributionList.php: published nodes only (status = 1); properties
  id, dateCreated, link (`{website}/contribution/{nid}`), title, contributionType and category (term
  name or "none"), contributionContent, commentsNumber, votingPro, votingContra, keywordSuggested,
  keywordPicked, belongToProject, dipasLocated, customAttribute `{"nlp_scores": {content, relevance,
  response, mutuality, sentiment: "-"}}`. A contribution without geodata gets the project area
  (or Point [0, 0]) and dipasLocated false. Located ones can be lines or polygons too.
- src/Plugin/ResponseKey/RetrieveRatingTrait.php: votingPro/votingContra are SQL aggregates; Drupal's
  pgsql driver sets PDO::ATTR_STRINGIFY_FETCHES, so they are strings ("12") -- and the integer 0 for
  a contribution nobody voted on (the defaults). The nid (`$node->id()`) is a string for the same reason.
- src/Service/DipasKeywords.php: keywords are stored `implode(', ', ...)`: "Radweg, Kreuzung".

Not verified: the upstream on Open CoDE (gitlab.opencode.de/dipas), which may differ from this
fork; the PDS specification document itself; the exact PHP types of term id/weight (strings here,
from the stringified fetches). The host names are fixed (`beteiligung.example`): the real
`{domain}.{host}` with this server's 127.0.0.1 host would not be a valid URL.
"""

import json
from datetime import datetime, timedelta, timezone

from servers import Control, serve

PREFIX = "/drupal/dipas-pds/projects"
NLP = {"nlp_scores": {"content": "-", "relevance": "-", "response": "-", "mutuality": "-", "sentiment": "-"}}


def term(tid, name, weight, **extra):
    return {"id": str(tid), "name": name, "description": "", "weight": str(weight), **extra}


def terms(*items):
    return {t["id"]: t for t in items}


def day(d):
    """dateStart/dateEnd as DIPAS writes them: a day at midnight, labelled Z."""
    return d.strftime("%Y-%m-%dT00:00:00Z")


def square(lon, lat, d=0.02):
    ring = [(lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d), (lon, lat)]
    return {"type": "Polygon", "coordinates": [[[round(x, 5), round(y, 5)] for x, y in ring]]}


class Dipas:
    def __init__(self):
        self.control = Control()
        self.projects, self.contributions = [], []

    def seed(self):
        """Two projects: radweg-nord (running, 30 contributions) and spielplatz-sued (ended in
        2024, 10); #5017 has neither title nor text; #5003, #5009, #5033 are not located (they
        carry the project area); #5012 is a line; #5004 and #5034 have no votes (integer 0)."""
        today = datetime.now(timezone.utc)
        self.projects = [
            {"id": "radweg-nord", "nameFull": "Radweg Nord", "area": square(9.98, 53.58),
             "description": " Radweg &amp; Gehweg: Ihre Hinweise zum Abschnitt Nord.\n\n  Bis Ende Juni.",
             "dateStart": day(today - timedelta(days=30)), "dateEnd": day(today + timedelta(days=90)), "dipasPhase": "phase1",
             "owner": "Bezirksamt Hamburg-Nord", "projectOwner": terms(term(3, "Bezirksamt Hamburg-Nord", 0)),
             "publisher": "Fachamt Management des öffentlichen Raumes",
             "standardCategories": terms(term(21, "Verkehrssicherheit", 0), term(22, "Grün", 1)),
             "projectContributionType": terms(term(31, "Hinweis", 0), term(32, "Frage", 1)),
             "dipasMainDistrict": terms(term(7, "Hamburg-Nord", 0, field_color="#003063")),
             "projectTopics": terms(term(12, "Verkehr", 0), term(15, "Umwelt", 1))},
            {"id": "spielplatz-sued", "nameFull": "Spielplatz Süd", "area": square(10.01, 53.54, 0.005),
             "description": "Wie soll der neue Spielplatz aussehen?", "dateStart": "2024-05-01T00:00:00Z",
             "dateEnd": "2024-06-30T00:00:00Z", "dipasPhase": "frozen", "owner": "Bezirksamt Hamburg-Mitte",
             "projectOwner": [], "publisher": "Bezirksamt Hamburg-Mitte", "standardCategories": terms(term(41, "Spiel", 0)),
             "projectContributionType": terms(term(51, "Idee", 0)), "dipasMainDistrict": [], "projectTopics": []},
        ]
        self.contributions = []
        for n in range(1, 41):
            project = self.projects[0] if n <= 30 else self.projects[1]
            lon, lat = project["area"]["coordinates"][0][0]
            voted = n not in (4, 34)
            self.contributions.append({
                "nid": 5000 + n, "project": project["id"], "published": True,
                "geodata": {"type": "Point", "coordinates": [round(lon + n / 2000, 5), round(lat + n / 4000, 5)]},
                "dateCreated": (datetime(2026, 2, 1, 8, tzinfo=timezone.utc) + timedelta(hours=7 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")
                if n <= 30 else f"2024-05-{n - 20:02d}T10:30:00Z",
                "title": f"Hinweis {n}", "contributionContent": f"Text zu Hinweis {n}.",
                "contributionType": "Hinweis" if n % 3 else "none", "category": "Verkehrssicherheit" if n % 2 else "none",
                "votingPro": str(n % 13) if voted else 0, "votingContra": str(n % 4) if voted else 0,
                "commentsNumber": n % 3, "keywordSuggested": "Radweg, Kreuzung" if n % 5 == 0 else "",
                "keywordPicked": "Radweg" if n % 5 == 0 else "",
            })
        for n in (3, 9, 33):
            self.contribution(5000 + n)["geodata"] = None
        self.contribution(5012)["geodata"] = {"type": "LineString", "coordinates": [[9.99, 53.585], [10.0, 53.59]]}
        self.contribution(5017).update(title="", contributionContent="")

    def contribution(self, nid):
        return next(c for c in self.contributions if c["nid"] == nid)

    def change(self):
        """Between two syncs: one contribution edited, one unpublished, one new (created now)."""
        self.contribution(5002)["title"] = "Hinweis 2 (ergänzt)"
        self.contribution(5005)["published"] = False
        self.contributions.append({
            "nid": 5041, "project": "radweg-nord", "published": True, "geodata": {"type": "Point", "coordinates": [9.995, 53.59]},
            "dateCreated": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "title": "Neuer Hinweis",
            "contributionContent": "Ganz frisch.", "contributionType": "Frage", "category": "none", "votingPro": 0,
            "votingContra": 0, "commentsNumber": 0, "keywordSuggested": "", "keywordPicked": "",
        })

    @staticmethod
    def website(pid):
        return f"https://{pid}.beteiligung.example/#"

    def published(self, pid):
        return [c for c in self.contributions if c["project"] == pid and c["published"]]

    def project_feature(self, p):
        keys = ("nameFull", "description", "dateStart", "dateEnd", "dipasPhase")
        props = {"id": p["id"], **{k: p[k] for k in keys}, "website": self.website(p["id"]), "owner": p["owner"],
                 "projectOwner": p["projectOwner"], "publisher": p["publisher"], "standardCategories": p["standardCategories"],
                 "projectContributionType": p["projectContributionType"], "dipasMainDistrict": p["dipasMainDistrict"],
                 "projectTopics": p["projectTopics"], "referenceSystem": "4326",
                 "hasParticipatoryText": [str(c["nid"]) for c in self.published(p["id"])], "dipasCategoriesCluster": None}
        return {"type": "Feature", "geometry": p["area"] or {}, "properties": props}

    def contribution_feature(self, c, p):
        located = c["geodata"] is not None
        props = {"id": str(c["nid"]), "dateCreated": c["dateCreated"], "link": f"{self.website(p['id'])}/contribution/{c['nid']}"}
        props.update({k: c[k] for k in ("title", "contributionType", "contributionContent", "commentsNumber", "category",
                                         "votingPro", "votingContra", "keywordSuggested", "keywordPicked")})
        props.update(belongToProject=p["id"], dipasLocated=located, customAttribute=NLP)
        return {"type": "Feature", "geometry": c["geodata"] if located else p["area"] or {"type": "Point", "coordinates": [0.0, 0.0]},
                "properties": props}

    def handle(self, method, path, query, headers, body):
        parts = path[len(PREFIX):].strip("/").split("/") if path.startswith(PREFIX) else None
        if method != "GET" or parts is None or len(parts) > 3 or len(parts) > 1 and parts[1] != "contributions":
            return 404, {"status": "error", "message": "The requested resource cannot be found on this server."}, []
        projects = {p["id"]: p for p in self.projects}
        if parts == [""] or parts == ["0"]:
            features = [self.project_feature(p) for p in self.projects]
        elif len(parts) == 1:
            features = [self.project_feature(projects[parts[0]])] if parts[0] in projects else []
        else:
            p = projects.get(parts[0])
            items = self.published(p["id"]) if p else []
            if len(parts) == 3:
                items = [c for c in items if str(c["nid"]) == parts[2]]
            features = [self.contribution_feature(c, p) for c in items]
        data = json.dumps({"type": "FeatureCollection", "features": features}, indent=4, ensure_ascii=False)
        return 200, data, [("Content-Type", "application/json")]


def scenario(binary, database, hub, suffix):
    from run import broken_sync, check, cli, first_sync, records  # here, not at the top: run.py may import this module

    tool = Dipas()
    tool.seed()
    server, url = serve(tool)
    name = f"dipas-{suffix}"
    # DIPAS is Hamburg's: its AGS is 02000000.
    added = json.loads(cli(binary, database, "source", "add", "--kind", "dipas", "--name", name, "--url", url,
                           "--municipality", "02000000", "--interval", "60").stdout)
    check(added["name"] == name and added["credentials"] is False, added)

    out = first_sync(binary, database, name, tool)
    check("1 rejected" in out and "5017" in out, out)
    check(tool.control.requests == 5, f"{tool.control.requests} requests")  # projects, 2 contribution lists, the refusal, the hang
    processes = {p["external_id"]: p for p in records(hub, "processes", name)}
    check(sorted(processes) == ["radweg-nord", "spielplatz-sued"], processes)
    nord, sued = processes["radweg-nord"], processes["spielplatz-sued"]
    check(nord["title"] == {"de": "Radweg Nord"} and nord["status"] == "open" and nord["municipality"] == "02000000", nord)
    check(nord["description"] == {"de": "Radweg & Gehweg: Ihre Hinweise zum Abschnitt Nord. Bis Ende Juni."}, nord)
    check(nord["url"] == "https://radweg-nord.beteiligung.example/#" and nord["geometry"] == square(9.98, 53.58), nord)
    check(sorted(nord["topics"]) == ["Umwelt", "Verkehr"], nord)  # projectTopics is an object keyed by term id
    check(sued["status"] == "closed" and sued["topics"] == [] and sued["provenance"]["via"] == "dipas", sued)
    by = {c["external_id"]: c for c in records(hub, "contributions", name)}
    check(len(by) == 39, len(by))  # 40, one unmappable
    one = by["5001"]
    check(one["kind"] == "idea" and one["process"] == "radweg-nord" and one["title"] == {"de": "Hinweis 1"}, one)
    check(one["text"] == {"de": "Text zu Hinweis 1."} and one["votes"] == {"up": 1, "down": 1}, one)  # from "1", "1"
    check(one["location"] == {"type": "Point", "coordinates": [9.9805, 53.58025]}, one)
    check(at(one["created_at"]) == at("2026-02-01T15:00:00Z") == at(one["updated_at"]), one)
    check(by["5004"]["votes"] == {"up": 0, "down": 0}, by["5004"])  # integer 0: nobody voted
    check(by["5013"]["votes"] == {"up": 0, "down": 1}, by["5013"])  # "0", "1"
    for unlocated in ("5003", "5033", "5012"):  # the project area, and a line
        check(by[unlocated].get("location") is None, by[unlocated])
    check(by["5031"]["process"] == "spielplatz-sued" and at(by["5031"]["created_at"]) == at("2024-05-11T10:30:00Z"), by["5031"])

    out = cli(binary, database, "sync", name).stdout
    check("0 created, 0 updated" in out and "0 deleted" in out, out)

    tool.change()
    out = cli(binary, database, "sync", name).stdout
    # Updated: 5002 and radweg-nord, whose updated_at follows its newest contribution (5041).
    check("1 created, 2 updated" in out and "1 deleted" in out, out)
    by = {c["external_id"]: c for c in records(hub, "contributions", name)}
    check(len(by) == 39, len(by))
    check(by["5002"]["title"] == {"de": "Hinweis 2 (ergänzt)"}, "the edit is missing")
    check("5005" not in by, "the unpublished contribution is still listed")
    check(by["5041"]["title"] == {"de": "Neuer Hinweis"} and by["5041"]["votes"] == {"up": 0, "down": 0}, by["5041"])
    since = {c["external_id"]: c for c in records(hub, "contributions", name, modified_since="2000-01-01T00:00:00Z")}
    check(since["5005"]["deleted"] is True, "no tombstone for the unpublished contribution")

    tool.contribution(5006)["title"] = "Darf nicht ankommen"
    broken_sync(binary, database, name, tool, 2)  # the second project's contributions answer 500
    check(not any(c.get("title") == {"de": "Darf nicht ankommen"} for c in records(hub, "contributions", name)), "half a sync was written")
    server.shutdown()
    return "PDS GeoJSON of 2 projects, topics keyed by term id, string votes, unlocated = project area, unpublished = tombstone"


def at(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))
