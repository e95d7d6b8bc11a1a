"""Local servers that answer in the real API shapes of the tools the hub pulls from
(`../shared/research/connectors-verified.md`), with state the test changes between syncs.

- Decidim: `POST /api` executes GraphQL with graphql-core over a subset of Decidim's schema
  (type and field names as in decidim-core, decidim-participatory_processes and
  decidim-proposals), so a query naming a field Decidim lacks fails as it would against Decidim.
  Relay paging with graphql-ruby's max page size of 50; hidden proposals vanish.
- Open311 GeoReport v2: `GET /services.json` and `GET /requests.json` with `start_date`,
  `end_date` (at most 90 days), `status` and Klarschiff's `updated_after`; at most 1000 requests an answer, like the spec's
  default limit.

Every server answers 429 or 503 with `Retry-After` when told to (`fail_next`), 500 from a given
request on (`break_after`), and keeps requests waiting past the client's timeout (`hang_next`).
"""

import json
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from graphql import build_schema, graphql_sync

DECIDIM_SDL = """
scalar Date
scalar DateTime

type Query {
  participatoryProcesses: [ParticipatoryProcess!]!
  participatoryProcess(id: ID, slug: String): ParticipatoryProcess
  component(id: ID!): ComponentInterface
}

type LocalizedString { locale: String! text: String }
type TranslatedField {
  locales: [String]
  translation(locale: String!): String
  translations(locales: [String!]): [LocalizedString!]!
}

type ParticipatoryProcess {
  id: ID!
  slug: String!
  type: String!
  reference: String
  title: TranslatedField!
  subtitle: TranslatedField
  shortDescription: TranslatedField
  description: TranslatedField
  startDate: Date
  endDate: Date
  publishedAt: DateTime!
  createdAt: DateTime
  updatedAt: DateTime
  promoted: Boolean
  components(filter: ComponentInputFilter, order: ComponentInputSort): [ComponentInterface]
}

input ComponentInputFilter { type: String withGeolocationEnabled: Boolean }
input ComponentInputSort { id: String weight: String type: String }

interface ComponentInterface { id: ID! name: TranslatedField! weight: Int! }
type Proposals implements ComponentInterface {
  id: ID!
  name: TranslatedField!
  weight: Int!
  proposals(first: Int, after: String, last: Int, before: String): ProposalConnection
}
type Meetings implements ComponentInterface { id: ID! name: TranslatedField! weight: Int! }

type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
type ProposalEdge { cursor: String! node: Proposal }
type ProposalConnection { edges: [ProposalEdge] nodes: [Proposal] pageInfo: PageInfo! }

type Coordinates { latitude: Float longitude: Float }
interface Author { id: ID! name: String! nickname: String! deleted: Boolean! }
type User implements Author { id: ID! name: String! nickname: String! deleted: Boolean! }

type Proposal {
  id: ID!
  reference: String
  title: TranslatedField
  body: TranslatedField
  answer: TranslatedField
  state: String
  answeredAt: DateTime
  publishedAt: DateTime
  withdrawn: Boolean!
  withdrawnAt: DateTime
  address: String
  coordinates: Coordinates
  official: Boolean
  voteCount: Int
  createdAt: DateTime
  updatedAt: DateTime
  author: Author
  totalCommentsCount: Int
}
"""

MAX_PAGE = 50  # Decidim's schema_max_per_page


def translated(**texts):
    return {"translations": [{"locale": k, "text": v} for k, v in texts.items()]}


class Control:
    """What the test tells a server to do next."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.fail_next = []  # statuses to answer before serving again, e.g. [429]
        self.break_after = None  # answer 500 from this request number on
        self.refused = 0
        self.hang_next = []  # seconds to keep the next requests waiting, e.g. [3]
        self.hung = 0

    def gate(self):
        """The refusal to answer instead, or None to serve; refusals come before hangs."""
        with self.lock:
            self.requests += 1
            if self.break_after is not None and self.requests > self.break_after:
                return 500
            if self.fail_next:
                self.refused += 1
                return self.fail_next.pop(0)
            hang = self.hang_next.pop(0) if self.hang_next else 0
            self.hung += bool(hang)
        if hang:
            time.sleep(hang)  # the client has given up by then; this answer goes nowhere
        return None


class Decidim:
    def __init__(self):
        self.control = Control()
        self.schema = build_schema(DECIDIM_SDL)
        resolve_type = lambda obj, *_: obj["__typename"]  # noqa: E731
        self.schema.get_type("ComponentInterface").resolve_type = resolve_type
        self.schema.get_type("Author").resolve_type = lambda *_: "User"
        self.processes = []
        self.proposals = {}  # component id -> list of proposals (hidden ones carry "hidden")

    def seed(self):
        """Two processes; 120 proposals over two components, one unmappable (no text at all)."""
        self.processes = [
            {
                "id": "1", "slug": "radverkehr", "type": "ParticipatoryProcess", "publishedAt": "2026-01-10T09:00:00+01:00",
                "title": translated(de="Radverkehrskonzept", en="Cycling plan"),
                "shortDescription": translated(de="<p>Wo fehlen <b>Radwege</b>?</p>"),
                "startDate": "2026-01-15", "endDate": "2099-12-31", "updatedAt": "2026-02-01T10:00:00+01:00",
                "components": [
                    {"__typename": "Proposals", "id": "11", "name": translated(de="Vorschläge"), "weight": 0},
                    {"__typename": "Meetings", "id": "12", "name": translated(de="Treffen"), "weight": 1},
                ],
            },
            {
                "id": "2", "slug": "haushalt-2025", "type": "ParticipatoryProcess", "publishedAt": "2025-01-10T09:00:00+01:00",
                "title": translated(de="Bürgerhaushalt 2025"), "shortDescription": None,
                "startDate": "2025-01-15", "endDate": "2025-03-31", "updatedAt": "2025-04-01T10:00:00+02:00",
                "components": [{"__typename": "Proposals", "id": "21", "name": translated(de="Vorschläge"), "weight": 0}],
            },
        ]
        self.proposals = {"11": [], "21": []}
        for n in range(1, 121):
            component = "11" if n <= 90 else "21"
            p = {
                "id": str(1000 + n), "reference": f"D-PROP-{n}", "state": "evaluating" if n % 7 == 0 else None,
                "withdrawn": n == 5, "publishedAt": "2026-02-02T10:00:00+01:00",
                "createdAt": "2026-02-02T09:00:00+01:00", "updatedAt": "2026-02-03T09:00:00+01:00",
                "title": translated(de=f"Vorschlag {n}"), "body": translated(de=f"<p>Begründung {n}</p>"),
                "voteCount": n, "coordinates": {"latitude": 50.94, "longitude": 6.95} if n % 2 else None,
                "author": {"id": str(5000 + n), "name": "X", "nickname": "@x", "deleted": False},
            }
            if n == 77:  # an empty proposal the standard refuses: neither title nor text
                p["title"] = translated(de="")
                p["body"] = translated(de="")
            self.proposals[component].append(p)

    def change(self):
        """Between two syncs: one proposal edited, one hidden by a moderator, one new."""
        edited = self.proposals["11"][0]
        edited["title"] = translated(de="Vorschlag 1 (überarbeitet)")
        edited["updatedAt"] = "2026-03-01T12:00:00+01:00"
        self.proposals["11"][1]["hidden"] = True
        self.proposals["21"].append({
            "id": "2001", "state": "accepted", "withdrawn": False, "publishedAt": "2026-03-02T10:00:00+01:00",
            "createdAt": "2026-03-02T10:00:00+01:00", "updatedAt": "2026-03-02T10:00:00+01:00",
            "title": translated(de="Neuer Vorschlag"), "body": None, "voteCount": None, "coordinates": None,
        })

    def resolve_proposals(self, component, info, first=None, after=None, **_):
        visible = [p for p in self.proposals.get(component["id"], []) if not p.get("hidden")]
        start = int(after) if after else 0
        size = min(first or MAX_PAGE, MAX_PAGE)
        page = visible[start:start + size]
        end = start + len(page)
        return {
            "edges": [{"cursor": str(start + i + 1), "node": p} for i, p in enumerate(page)],
            "nodes": page,
            "pageInfo": {"hasNextPage": end < len(visible), "hasPreviousPage": start > 0,
                         "startCursor": str(start + 1) if page else None, "endCursor": str(end) if page else None},
        }

    def execute(self, body):
        components = {c["id"]: c for p in self.processes for c in p["components"]}

        class Root:
            pass

        root = Root()
        root.participatoryProcesses = lambda info: self.processes
        root.participatoryProcess = lambda info, id=None, slug=None: next(
            (p for p in self.processes if p["id"] == id or p["slug"] == slug), None)
        root.component = lambda info, id: components.get(id)
        for c in components.values():
            if c["__typename"] == "Proposals":
                c["proposals"] = lambda info, _c=c, **kw: self.resolve_proposals(_c, info, **kw)
        result = graphql_sync(self.schema, body.get("query", ""), root_value=root,
                              variable_values=body.get("variables") or {}, field_resolver=field_resolver)
        out = {"data": result.data}
        if result.errors:
            out["errors"] = [{"message": e.message} for e in result.errors]
        return out


def field_resolver(source, info, **args):
    value = source.get(info.field_name) if isinstance(source, dict) else getattr(source, info.field_name, None)
    return value(info, **args) if callable(value) else value


class Open311:
    def __init__(self):
        self.control = Control()
        self.services = [{"service_code": "17", "service_name": "Wilde Müllkippe", "metadata": False, "type": "realtime",
                          "keywords": "", "group": "Sauberkeit"},
                         {"service_code": 18, "service_name": "Schlagloch", "metadata": False, "type": "realtime",
                          "keywords": "", "group": "Straße"}]
        self.requests = []
        self.updated_after = []  # the updated_after of every requests.json asked for

    def seed(self, now):
        """1,500 requests within the last 60 days (more than one answer holds), one broken."""
        self.requests = []
        for n in range(1500):
            t = now - timedelta(days=60) + timedelta(minutes=57 * n)
            self.requests.append({
                "service_request_id": str(n) if n % 2 else n, "status": "open", "status_notes": None,
                "service_code": "17" if n % 3 else "18", "service_name": "Wilde Müllkippe" if n % 3 else "Schlagloch",
                "description": f"Meldung {n}", "agency_responsible": "Stadtentsorgung", "service_notice": None,
                "requested_datetime": t.isoformat(timespec="seconds"), "updated_datetime": None,
                "expected_datetime": None, "address": "Hangelarer Weg, 53229 Bonn", "address_id": None,
                "zipcode": None, "lat": 50.754391, "long": 7.148344, "media_url": None,
            })
        self.requests[3]["requested_datetime"] = None  # no time: not a record the standard takes
        self.undated = now - timedelta(days=30)

    def change(self, now):
        self.requests[0]["status"] = "closed"
        self.requests[0]["status_notes"] = "Entsorgt."
        self.requests[0]["updated_datetime"] = now.isoformat(timespec="seconds")

    def answer(self, query):
        def when(name):
            v = query.get(name, [None])[0]
            return datetime.fromisoformat(v.replace("Z", "+00:00")) if v else None

        start, end = when("start_date"), when("end_date")
        self.updated_after.append(query.get("updated_after", [None])[0])
        after = when("updated_after")  # Klarschiff's (CitySDK) extension
        if start and end and end - start > timedelta(days=90, seconds=1):
            return 400, [{"code": 400, "description": "date range may not exceed 90 days"}]
        statuses = set(query.get("status", ["open,closed"])[0].split(","))
        out = []
        for r in self.requests:
            t = r["requested_datetime"]
            # A request without a time (the broken one) is answered in the window of 30 days ago.
            t = datetime.fromisoformat(t) if t else self.undated
            if (start and t < start) or (end and t > end) or r["status"] not in statuses:
                continue
            changed = r["updated_datetime"] or r["requested_datetime"]
            if after and changed and datetime.fromisoformat(changed) <= after:
                continue
            out.append(r)
        return 200, out[:1000]


def serve(tool, port=0):
    """Starts a server for `tool` on a thread; returns (server, base URL)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status, body, headers=()):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def refused(self):
            status = tool.control.gate()
            if status is None:
                return False
            self.reply(status, {"error": "slow down" if status != 500 else "broken"},
                       [("Retry-After", "1")] if status in (429, 503) else [])
            return True

        def generic(self, method):
            """A tool with `handle(method, path, query, headers, body) -> (status, body, headers)`
            answers every request itself; `body` is bytes (None for GET), the answer JSON or bytes."""
            url = urlparse(self.path)
            if self.refused():
                return
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length) if length else None
            status, body, headers = tool.handle(method, url.path, parse_qs(url.query), self.headers, raw)
            if isinstance(body, (bytes, str)):
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            else:
                self.reply(status, body, headers)

        def do_POST(self):
            if hasattr(tool, "handle"):
                return self.generic("POST")
            if not isinstance(tool, Decidim) or urlparse(self.path).path != "/api":
                return self.reply(404, {"error": "not found"})
            if self.refused():
                return
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            self.reply(200, tool.execute(body))

        def do_GET(self):
            if hasattr(tool, "handle"):
                return self.generic("GET")
            url = urlparse(self.path)
            if not isinstance(tool, Open311) or url.path not in ("/services.json", "/requests.json"):
                return self.reply(404, {"error": "not found"})
            if self.refused():
                return
            if url.path == "/services.json":
                return self.reply(200, tool.services)
            status, body = tool.answer(parse_qs(url.query))
            self.reply(status, body)

    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            import sys
            if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):  # a client that gave up
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
