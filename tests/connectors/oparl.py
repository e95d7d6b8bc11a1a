"""An OParl 1.1 test server (a council information system of one body), and the scenario that
drives the `oparl` connector.

Shapes checked in OParl/spec (master 0ca3435):
- schema/System.json, Body.json, Meeting.json, Location.json, Paper.json, Organization.json and
  examples/*-01.json: field names and types. Required: System id, type, oparlVersion, body; Body
  id, type, name, organization, person, meeting, paper (list URLs) and legislativeTerm (an
  internal array); `created`/`modified` on every object (src/4-01-oparl-1-1.md).
- src/2-04-json-ausgabe.md: a date-time is `yyyy-mm-ddThh:mm:ss±hh:mm` (the spec shows no `Z`);
  empty or null properties are left out.
- src/2-05-objektlisten-und-paginierung.md: a list page is {data, pagination {totalElements,
  elementsPerPage, currentPage, totalPages}, links {first, prev, self, next, last}}, `next` on every
  page but the last; filters created_since, created_until, modified_since, modified_until (full
  date-times, URL-encoded: `+` as %2B) must be kept in every link; `limit` may be ignored by a
  server (this one caps it at 20); `omit_internal=true` drops auxiliaryFile, agendaItem (Meeting)
  and auxiliaryFile, location (Paper) -- a Meeting's `location` stays.
- src/2-08-geloeschte-objekte.md: soft delete, `deleted: true` with `modified` = time of deletion,
  only id, type, created kept, HTTP 200; deleted objects are listed only under `modified_since`.
- schema/strings.yml: Location.geojson is a complete GeoJSON *Feature* (the geometry is inside);
  `cancelled` is true when a meeting is called off; Body.ags is the 8-digit AGS.
- src/2-09-ausnahmebehandlung.md: errors as {"type": ".../Error", "message", "debug"}.

Not verified against a live RIS: servers differ in practice (paging parameter names, whether
`limit` or a `Z` offset is accepted, lat/lon order: the spec's own examples put latitude first,
this server writes GeoJSON's longitude first).
"""

import json
import math
from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from servers import Control, serve

T = "https://schema.oparl.org/1.1/"
BERLIN = ZoneInfo("Europe/Berlin")
PAGE = 20
FILTERS = ("created_since", "created_until", "modified_since", "modified_until")
INTERNAL = {"Meeting": ("auxiliaryFile", "agendaItem"), "Paper": ("auxiliaryFile", "location")}
COMMITTEES = ["Rat", "Ausschuss für Umwelt und Grün", "Verkehrsausschuss"]


def stamp(dt):
    return dt.isoformat(timespec="seconds")


def now():
    return stamp(datetime.now(BERLIN))


def rooted(value, base):
    """Objects are stored with "@" for the server's own base URL (it depends on the port)."""
    if isinstance(value, str) and (value == "@" or value.startswith("@/")):
        return base + value[1:]
    if isinstance(value, list):
        return [rooted(v, base) for v in value]
    if isinstance(value, dict):
        return {k: rooted(v, base) for k, v in value.items()}
    return value


def tombstone(obj, when):
    return {"id": obj["id"], "type": obj["type"], "created": obj["created"], "modified": when, "deleted": True}


class OParl:
    def __init__(self):
        self.control = Control()
        self.log = []  # (path, query) of every list request
        self.objects = {}  # "meeting/1" -> object

    def seed(self):
        """1 body (AGS 05315000), 3 organizations, 2 locations, 45 meetings (#23 without start,
        #11 without end, #7 cancelled, every 4th at a place without geodata, every 8th without a
        place), #46 deleted before the first sync, 30 papers."""
        o = self.objects = {}
        created = "2025-11-03T09:00:00+01:00"
        o["body/1"] = {
            "id": "@/body/1", "type": T + "Body", "system": "@", "shortName": "Köln", "name": "Stadt Köln",
            "website": "https://www.stadt-koeln.de/", "license": "https://www.govdata.de/dl-de/by-2-0",
            "ags": "05315000", "rgs": "053150000000", "contactEmail": "ratsinformation@stadt-koeln.de",
            "contactName": "Ratsinformation", "organization": "@/body/1/organizations", "person": "@/body/1/persons",
            "meeting": "@/body/1/meetings", "paper": "@/body/1/papers", "locationList": "@/body/1/locations",
            "legislativeTerm": [{"id": "@/legislativeterm/1", "type": T + "LegislativeTerm", "body": "@/body/1",
                                 "name": "Wahlperiode 2025–2030", "startDate": "2025-11-01", "endDate": "2030-10-31",
                                 "created": created, "modified": created}],
            "classification": "Kreisfreie Stadt", "created": "2014-01-08T14:28:31+01:00",
            "modified": "2025-11-03T10:00:00+01:00", "web": "https://ratsinformation.stadt-koeln.de/",
        }
        for k, name in enumerate(COMMITTEES, 1):
            o[f"organization/{k}"] = {"id": f"@/organization/{k}", "type": T + "Organization", "body": "@/body/1",
                                      "name": name, "organizationType": "Gremium", "classification": "Ausschuss" if k > 1 else "Rat",
                                      "created": created, "modified": created}
        o["location/1"] = {"id": "@/location/1", "type": T + "Location", "description": "Historisches Rathaus, Ratssaal",
                           "streetAddress": "Rathausplatz 2", "postalCode": "50667", "locality": "Köln", "room": "Ratssaal",
                           "geojson": {"type": "Feature", "geometry": {"type": "Point", "coordinates": [6.95866, 50.93814]},
                                       "properties": {"name": "Historisches Rathaus"}},
                           "created": created, "modified": created}
        o["location/2"] = {"id": "@/location/2", "type": T + "Location", "description": "Bezirksrathaus Lindenthal, Sitzungssaal",
                           "streetAddress": "Aachener Straße 220", "postalCode": "50931", "locality": "Köln",
                           "created": created, "modified": created}
        for n in range(1, 46):
            start = datetime(2026, 1, 12, 17, tzinfo=BERLIN) + timedelta(days=7 * (n - 1))
            m = {"id": f"@/meeting/{n}", "type": T + "Meeting", "name": f"{n}. Sitzung: {COMMITTEES[n % 3]}",
                 "meetingState": "durchgeführt" if n < 40 else "terminiert", "start": stamp(start),
                 "end": stamp(start + timedelta(hours=2, minutes=30)), "organization": [f"@/organization/{n % 3 + 1}"],
                 "created": "2025-12-01T09:00:00+01:00", "modified": f"2025-12-{1 + n % 20:02d}T10:00:00+01:00",
                 "web": f"https://ratsinformation.stadt-koeln.de/si0057.asp?__ksinr={n}"}
            if n % 8:
                m["location"] = o["location/2" if n % 4 == 0 else "location/1"]
            if n % 10 == 1:
                m["agendaItem"] = [{"id": f"@/agendaitem/{n}{i}", "type": T + "AgendaItem", "meeting": m["id"],
                                    "number": str(i), "name": f"Tagesordnungspunkt {i}", "public": True,
                                    "created": m["created"], "modified": m["modified"]} for i in (1, 2)]
            if n % 5 == 0:
                m["cancelled"] = False
            o[f"meeting/{n}"] = m
        o["meeting/7"]["cancelled"] = True
        del o["meeting/11"]["end"]
        del o["meeting/23"]["start"], o["meeting/23"]["end"]
        o["meeting/46"] = {"id": "@/meeting/46", "type": T + "Meeting", "created": "2025-11-20T09:00:00+01:00",
                           "modified": "2025-12-20T12:00:00+01:00", "deleted": True}
        for n in range(1, 31):
            p = {"id": f"@/paper/{n}", "type": T + "Paper", "body": "@/body/1", "name": f"Drucksache {n}: Radverkehr im Veedel",
                 "reference": f"{n:04d}/2026", "date": f"2026-01-{n:02d}",
                 "paperType": ["Beschlussvorlage", "Antrag", "Mitteilung"][n % 3],
                 "originatorOrganization": [f"@/organization/{n % 3 + 1}"],
                 "created": f"2026-01-{n:02d}T08:00:00+01:00", "modified": f"2026-01-{n:02d}T12:00:00+01:00",
                 "web": f"https://ratsinformation.stadt-koeln.de/vo0050.asp?__kvonr={n}"}
            if n % 2:
                p["mainFile"] = {"id": f"@/file/{n}", "type": T + "File", "name": "Vorlage", "fileName": f"{n:04d}-2026.pdf",
                                 "mimeType": "application/pdf", "accessUrl": f"@/file/{n}/access",
                                 "created": p["created"], "modified": p["created"]}
            if n % 7 == 0:
                p["location"] = [o["location/1"]]
            o[f"paper/{n}"] = p

    def change(self):
        """Between two syncs: meeting 2 renamed, meeting 3 and paper 30 deleted, meeting 47 new,
        all with `modified` = now."""
        o, at = self.objects, now()
        o["meeting/2"].update(name="2. Sitzung: Verkehrsausschuss (verlegt)", modified=at)
        o["meeting/3"] = tombstone(o["meeting/3"], at)
        o["paper/30"] = tombstone(o["paper/30"], at)
        start = datetime.now(BERLIN).replace(hour=17, minute=0, second=0, microsecond=0) + timedelta(days=14)
        o["meeting/47"] = {"id": "@/meeting/47", "type": T + "Meeting", "name": "47. Sitzung: Rat", "meetingState": "terminiert",
                           "start": stamp(start), "end": stamp(start + timedelta(hours=3)), "location": o["location/1"],
                           "organization": ["@/organization/1"], "created": at, "modified": at}

    def listing(self, kind, query, base, path):
        def when(name):
            value = query.get(name, [None])[0]
            if value is None:
                return None
            t = datetime.fromisoformat(value)  # ValueError for "2026-01-01T00:00:00 01:00" (an unencoded "+")
            if t.tzinfo is None:
                raise ValueError(f"{value} has no offset")
            return t

        bounds = {name: when(name) for name in FILTERS}
        rows = sorted((v for k, v in self.objects.items() if k.split("/")[0] == kind), key=lambda v: int(v["id"].rsplit("/", 1)[1]))
        if bounds["modified_since"] is None:
            rows = [r for r in rows if not r.get("deleted")]
        for name, t in bounds.items():
            if t is not None:
                field, since = name.split("_")
                rows = [r for r in rows if (datetime.fromisoformat(r[field]) >= t if since == "since" else datetime.fromisoformat(r[field]) <= t)]
        try:
            limit = max(1, min(int(query.get("limit", [PAGE])[0]), PAGE))
            page = max(1, int(query.get("page", [1])[0]))
        except ValueError:
            limit, page = PAGE, 1
        pages = max(1, math.ceil(len(rows) / limit))
        data = rows[(page - 1) * limit:page * limit]
        if query.get("omit_internal", [""])[0] == "true":
            data = [{k: v for k, v in r.items() if k not in INTERNAL.get(r["type"][len(T):], ())} for r in data]
        keep = {k: v[0] for k, v in query.items() if k in FILTERS or k in ("limit", "omit_internal")}
        link = lambda n: f"{base}{path}?" + urlencode({**keep, "page": n})  # noqa: E731
        links = {"first": link(1), "self": link(page), "last": link(pages)}
        if page > 1:
            links["prev"] = link(page - 1)
        if page < pages:
            links["next"] = link(page + 1)
        return {"data": data, "pagination": {"totalElements": len(rows), "elementsPerPage": limit,
                                             "currentPage": page, "totalPages": pages}, "links": links}

    def handle(self, method, path, query, headers, body):
        base = f"http://{headers.get('Host')}/oparl/v1.1"
        rest = path[len("/oparl/v1.1"):].strip("/") if path.startswith("/oparl/v1.1") else None
        lists = {"bodies": "body", "body/1/organizations": "organization", "body/1/persons": "person",
                 "body/1/meetings": "meeting", "body/1/papers": "paper", "body/1/locations": "location"}
        try:
            if method != "GET" or rest is None:
                raise KeyError(path)
            if rest == "":
                answer = {"id": "@", "type": T + "System", "oparlVersion": T, "body": "@/bodies",
                          "name": "Ratsinformationssystem der Stadt Köln", "contactEmail": "ratsinformation@stadt-koeln.de",
                          "website": "https://ratsinformation.stadt-koeln.de/", "vendor": "https://ris-vendor.example/",
                          "product": "https://ris-vendor.example/oparl/", "created": "2016-01-01T00:00:00+01:00",
                          "modified": "2025-11-03T10:00:00+01:00"}
            elif rest in lists:
                self.log.append((rest, query))
                answer = self.listing(lists[rest], query, base, "/" + rest)
            else:
                answer = self.objects[rest]
        except KeyError:
            return 404, {"type": T + "Error", "message": "Das Objekt wurde nicht gefunden.", "debug": path}, []
        except ValueError as e:
            return 400, {"type": T + "Error", "message": "Ungültiger Filter.", "debug": str(e)}, []
        return 200, rooted(answer, base), [("Content-Type", "application/json")]


def at(s):
    return datetime.fromisoformat(s)


def scenario(binary, database, hub, suffix):
    from run import broken_sync, check, cli, first_sync, records  # here, not at the top: run.py may import this module

    tool = OParl()
    tool.seed()
    server, url = serve(tool)
    base = f"{url}/oparl/v1.1"
    name = f"oparl-{suffix}"
    added = json.loads(cli(binary, database, "source", "add", "--kind", "oparl", "--name", name, "--url", base,
                           "--interval", "60").stdout)
    check(added["name"] == name and added["credentials"] is False, added)

    out = first_sync(binary, database, name, tool)
    check("1 rejected" in out and f"{base}/meeting/23" in out, out)
    meetings = [q for p, q in tool.log if p == "body/1/meetings"]
    check(len(meetings) == 3 and not any("modified_since" in q for q in meetings), meetings)  # a full walk: 20, 20, 5
    orgs = records(hub, "organisations", name)
    check(len(orgs) == 1, orgs)
    body = orgs[0]
    check(body["external_id"] == f"{base}/body/1" and body["name"] == {"de": "Stadt Köln"}, body)
    check(body["municipality"] == "05315000" and body["url"] == "https://www.stadt-koeln.de/", body)
    check(at(body["updated_at"]) == at("2025-11-03T10:00:00+01:00") and body["provenance"]["via"] == "oparl", body)
    by = {e["external_id"]: e for e in records(hub, "events", name)}
    check(len(by) == 44, len(by))  # 45, one without start; the deleted #46 never shows
    one = by[f"{base}/meeting/1"]
    check(one["title"] == {"de": "1. Sitzung: Ausschuss für Umwelt und Grün"}, one)
    check(at(one["start"]) == at("2026-01-12T17:00:00+01:00") and at(one["end"]) == at("2026-01-12T19:30:00+01:00"), one)
    check(one["place"] == {"name": "Historisches Rathaus, Ratssaal", "address": "Rathausplatz 2 50667 Köln",
                           "location": {"type": "Point", "coordinates": [6.95866, 50.93814]}}, one)
    check(at(one["updated_at"]) == at("2025-12-02T10:00:00+01:00"), one)
    summer = by[f"{base}/meeting/12"]  # 30 March 2026: summer time
    check(at(summer["start"]) == at("2026-03-30T17:00:00+02:00"), summer)
    four = by[f"{base}/meeting/4"]["place"]
    check(four["name"] == "Bezirksrathaus Lindenthal, Sitzungssaal" and four["address"] == "Aachener Straße 220 50931 Köln"
          and four.get("location") is None, four)
    check(by[f"{base}/meeting/8"].get("place") is None and by[f"{base}/meeting/11"].get("end") is None, "optional fields")
    check(by[f"{base}/meeting/7"].get("cancelled") is True and not by[f"{base}/meeting/5"].get("cancelled"), "cancelled")
    check(f"{base}/meeting/46" not in by, "a deleted meeting was taken")
    papers = {p["external_id"]: p for p in records(hub, "papers", name)}
    check(len(papers) == 30, len(papers))
    seven = papers[f"{base}/paper/7"]
    check(seven["title"] == {"de": "Drucksache 7: Radverkehr im Veedel"} and seven["reference"] == "0007/2026", seven)
    check(seven["paper_type"] == "Antrag" and seven["date"] == "2026-01-07" and seven["municipality"] == "05315000", seven)
    check(seven["url"].endswith("__kvonr=7") and seven["file_url"] == f"{base}/file/7/access", seven)
    check("file_url" not in papers[f"{base}/paper/8"], "a paper without a main file")

    tool.log.clear()
    out = cli(binary, database, "sync", name).stdout
    check("0 created, 0 updated" in out and "0 deleted" in out, out)
    check(all("modified_since" in q for p, q in tool.log if p == "body/1/meetings"), tool.log)

    tool.change()
    out = cli(binary, database, "sync", name).stdout
    check("1 created, 1 updated" in out and "2 deleted" in out, out)
    check(f"{base}/paper/30" not in {p["external_id"] for p in records(hub, "papers", name)}, "the deleted paper")
    by = {e["external_id"]: e for e in records(hub, "events", name)}
    check(len(by) == 44, len(by))
    check(by[f"{base}/meeting/2"]["title"] == {"de": "2. Sitzung: Verkehrsausschuss (verlegt)"}, "the edit is missing")
    check(f"{base}/meeting/3" not in by, "the deleted meeting is still listed")
    check(by[f"{base}/meeting/47"]["title"] == {"de": "47. Sitzung: Rat"}, "the new meeting")
    since = {e["external_id"]: e for e in records(hub, "events", name, modified_since="2000-01-01T00:00:00Z")}
    check(since[f"{base}/meeting/3"]["deleted"] is True, "no tombstone for the deleted meeting")

    tool.objects["meeting/4"].update(name="Darf nicht ankommen", modified=now())
    broken_sync(binary, database, name, tool, 2)  # System and body list answer, the meetings 500
    check(not any(e["title"] == {"de": "Darf nicht ankommen"} for e in records(hub, "events", name)), "half a sync was written")
    server.shutdown()
    return "System → bodies → meetings and papers in pages of 20, modified_since after the first sync, deleted: true = tombstone"
