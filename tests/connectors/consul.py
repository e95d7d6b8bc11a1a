"""A CONSUL Democracy test server: `POST|GET /graphql` executes GraphQL with graphql-core over
a subset of CONSUL's real schema, and the scenario that drives the `consul` connector.

Shapes checked in consuldemocracy/consuldemocracy (the stored versions, several of them from
forks; see the caveat in connectors-verified.md):
- app/graphql/consul_schema.rb: `default_max_page_size 25`, `max_complexity 2500`, `max_depth 8`.
- app/graphql/types/query_type.rb: `connection_and_id_fields` for budget, comment, debate,
  geozone, milestone, proposal, proposal_notification, tag, user, vote: a connection `proposals`
  (null: false) and a by-id field `proposal(id: ID!)` (null: false) each.
- app/graphql/types/{proposal,comment,debate,geozone,tag,user,vote}_type.rb: field names, types
  and nullability as below (`id: ID!`, `commentableId: Int`, `retiredAt: ISO8601DateTime`,
  `publicCreatedAt: String`, Comment `confidenceScore: Int!`).
- app/graphql/types/base_object.rb: every snake_case field also exists under its old name,
  deprecated ("Snake case fields are deprecated. Please use cachedVotesUp.").
- app/models/concerns/graphqlable.rb: `public_created_at` is `created_at.change(min: 0)`, a
  TimeWithZone in a `String` field. graphql-ruby's String `coerce_result` calls `to_s`, and
  ActiveSupport 7's TimeWithZone#to_s is `"%Y-%m-%d %H:%M:%S " + formatted_offset(false, "UTC")`:
  "2026-02-02 10:00:00 +0100" -- but "2026-02-02 10:00:00 UTC" on an instance whose time zone is
  UTC (upstream configures "Madrid"; forks set their own).
- `retiredAt` is graphql-ruby's ISO8601DateTime: `iso8601` without fractions, "2026-03-15T10:00:00+01:00".
- spec/graphql/types/query_type_spec.rb: `comments` holds comments on Proposal, Debate, Poll and
  Budget::Investment only; hidden comments, comments of hidden proposals/debates and valuation
  comments are left out; hidden proposals and debates vanish (acts_as_paranoid on hidden_at).
- app/models/concerns/has_public_author.rb: `publicAuthor` is null unless the author's activity is public.
- docs/en/features/graphql.md: GET with `?query=` and POST (application/json or application/graphql).
- Cursors: graphql-ruby's offset cursors, urlsafe Base64 of the 1-based offset without padding
  ("MjU" after 25); the CONSUL docs show an older padded "NQ==".
- app/controllers/graphql_controller.rb (the stored version is old): `JSON.parse(params[:variables])`,
  i.e. `variables` as a JSON-encoded *string*; newer controllers (seen in forks: `prepare_variables`)
  take a string or an object. This server takes both.

Not verified / left out: Budget, Milestone, ProposalNotification, Poll types; the complexity limit
(which enforces "at most two collections a query") is not modelled, the depth limit of 8 is;
the order of a connection (CONSUL gives no ORDER BY; this server lists by id).
"""

import base64
import json
import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from graphql import GraphQLError, build_schema, execute, get_named_type, parse, validate
from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode, OperationDefinitionNode

from servers import Control, serve

MAX_PAGE = 25
MAX_DEPTH = 8
BERLIN = ZoneInfo("Europe/Berlin")

# (graphql-ruby field name, GraphQL type); connection fields take first/after/last/before.
TYPES = {
    "Proposal": [
        ("cached_votes_up", "Int"), ("comments", "CommentConnection*"), ("comments_count", "Int"),
        ("confidence_score", "Int"), ("description", "String"), ("geozone", "Geozone"), ("geozone_id", "Int"),
        ("hot_score", "Int"), ("id", "ID!"), ("public_author", "User"), ("public_created_at", "String"),
        ("retired_at", "ISO8601DateTime"), ("retired_explanation", "String"), ("retired_reason", "String"),
        ("summary", "String"), ("tags", "TagConnection*"), ("title", "String"), ("video_url", "String"),
        ("votes_for", "VoteConnection*"),
    ],
    "Comment": [
        ("ancestry", "String"), ("body", "String"), ("cached_votes_down", "Int"), ("cached_votes_total", "Int"),
        ("cached_votes_up", "Int"), ("commentable_id", "Int"), ("commentable_type", "String"),
        ("confidence_score", "Int!"), ("id", "ID!"), ("public_author", "User"), ("public_created_at", "String"),
        ("votes_for", "VoteConnection*"),
    ],
    "Debate": [
        ("cached_votes_down", "Int"), ("cached_votes_total", "Int"), ("cached_votes_up", "Int"),
        ("comments", "CommentConnection*"), ("comments_count", "Int"), ("confidence_score", "Int"),
        ("description", "String"), ("hot_score", "Int"), ("id", "ID!"), ("public_author", "User"),
        ("public_created_at", "String"), ("tags", "TagConnection*"), ("title", "String"), ("votes_for", "VoteConnection*"),
    ],
    "Geozone": [("id", "ID!"), ("name", "String")],
    "Tag": [("id", "ID!"), ("kind", "String"), ("name", "String"), ("taggings_count", "Int")],
    "User": [
        ("id", "ID!"), ("public_comments", "CommentConnection*"), ("public_debates", "DebateConnection*"),
        ("public_proposals", "ProposalConnection*"), ("username", "String"),
    ],
    "Vote": [("id", "ID!"), ("public_created_at", "String"), ("votable_id", "Int"), ("votable_type", "String"),
             ("vote_flag", "Boolean")],
}
ROOTS = ["comment", "debate", "geozone", "proposal", "tag", "user", "vote"]
PAGING = "(after: String, before: String, first: Int, last: Int)"


def camel(name):
    head, *rest = name.split("_")
    return head + "".join(w.capitalize() for w in rest)


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def sdl():
    def field(name, kind):
        args, kind = (PAGING, kind[:-1]) if kind.endswith("*") else ("", kind)
        line = f"  {camel(name)}{args}: {kind}"
        if "_" in name:  # base_object.rb keeps the old snake_case name, deprecated
            line += f'\n  {name}{args}: {kind} @deprecated(reason: "Snake case fields are deprecated. Please use {camel(name)}.")'
        return line

    out = ["scalar ISO8601DateTime",
           "type PageInfo { endCursor: String hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String }"]
    for t, fields in TYPES.items():
        out.append(f"type {t} {{\n" + "\n".join(field(*f) for f in fields) + "\n}")
        out.append(f"type {t}Edge {{ cursor: String! node: {t} }}")
        out.append(f"type {t}Connection {{ edges: [{t}Edge] nodes: [{t}] pageInfo: PageInfo! }}")
    query = [f"  {r}s{PAGING}: {r.capitalize()}Connection!\n  {r}(id: ID!): {r.capitalize()}!" for r in ROOTS]
    out.append("type Query {\n" + "\n".join(query) + "\n}")
    return "\n".join(out)


def cursor(n):
    return base64.urlsafe_b64encode(str(n).encode()).rstrip(b"=").decode()


def offset(c):
    try:
        return int(base64.urlsafe_b64decode(c + "=" * (-len(c) % 4)).decode())
    except ValueError:
        raise GraphQLError(f"Invalid cursor: {c}") from None


def connection(items, first=None, after=None, last=None, before=None):
    """graphql-ruby's offset pagination, at most MAX_PAGE nodes however many were asked for."""
    start = offset(after) if after else 0
    end = offset(before) - 1 if before else len(items)
    if first is not None and first < 0 or last is not None and last < 0:
        raise GraphQLError("Argument 'first' and 'last' must be non-negative")
    if first is not None or last is None:
        end = min(end, start + min(MAX_PAGE if first is None else first, MAX_PAGE))
    else:
        start = max(start, end - min(last, MAX_PAGE))
    page = items[start:end]
    edges = [{"cursor": cursor(start + i + 1), "node": n} for i, n in enumerate(page)]
    return {"edges": edges, "nodes": page, "pageInfo": {
        "hasNextPage": end < len(items), "hasPreviousPage": start > 0,
        "startCursor": edges[0]["cursor"] if edges else None, "endCursor": edges[-1]["cursor"] if edges else None}}


def resolve(source, info, **args):
    """Fields read the Ruby attribute (snake_case) of a dict; connections page their lists."""
    name = info.field_name if info.field_name in source else snake(info.field_name)
    value = source.get(name)
    if callable(value):
        value = value(**args)
    if get_named_type(info.return_type).name.endswith("Connection"):
        return connection(value or [], **{k: v for k, v in args.items() if k in ("first", "after", "last", "before")})
    return value


def depth(selections, fragments):
    d = 0
    for s in selections or []:
        if isinstance(s, FieldNode):
            d = max(d, 1 + depth(s.selection_set.selections if s.selection_set else [], fragments))
        elif isinstance(s, InlineFragmentNode):
            d = max(d, depth(s.selection_set.selections, fragments))
        elif isinstance(s, FragmentSpreadNode) and s.name.value in fragments:
            d = max(d, depth(fragments[s.name.value].selection_set.selections, fragments))
    return d


def created(day, hour, month=2):
    """A publicCreatedAt as CONSUL renders it: hour-truncated, Rails' TimeWithZone#to_s."""
    return datetime(2026, month, day, hour, tzinfo=BERLIN).strftime("%Y-%m-%d %H:00:00 %z")


class Consul:
    def __init__(self):
        self.control = Control()
        self.schema = build_schema(sdl())
        self.proposals, self.comments, self.debates = [], [], []

    def seed(self):
        """60 proposals (3 pages), #142 with neither title nor text, #105 retired; 30 comments on
        proposals in 10 threads of three (root, reply, reply to the reply), 4 on a Debate and a
        Budget::Investment in between (34 comments, 2 pages)."""
        zones = [None, {"id": "3", "name": "Beuel"}, {"id": "4", "name": "Innenstadt"}]
        self.proposals = []
        for n in range(1, 61):
            zone = zones[n % 3]
            self.proposals.append({
                "id": str(100 + n), "title": f"Vorschlag {n}", "summary": f"Kurzfassung {n}",
                "description": f"<p>Begründung <strong>{n}</strong>: mehr Bäume &amp; Bänke.</p><p>Bitte prüfen.</p>",
                "video_url": None, "cached_votes_up": n, "confidence_score": n, "hot_score": n * 10,
                "geozone": zone, "geozone_id": int(zone["id"]) if zone else None,
                "public_author": {"id": str(900 + n), "username": f"nutzer{n}"} if n % 4 else None,
                "public_created_at": created(1 + n % 27, 8 + n % 10), "retired_at": None,
                "retired_reason": None, "retired_explanation": None,
                "tags": [{"id": "1", "kind": "category", "name": "Umwelt", "taggings_count": 20}] if n % 3 == 0 else [],
            })
        p = self.by_id(self.proposals, "105")
        p.update(retired_at="2026-03-15T10:00:00+01:00", retired_reason="duplicated",
                 retired_explanation="Doppelt, siehe Vorschlag 4.")
        self.by_id(self.proposals, "110")["description"] = ""  # the text then comes from the summary
        self.by_id(self.proposals, "120")["public_created_at"] = created(4, 18, month=5)  # summer time, +0200
        self.by_id(self.proposals, "142").update(title="", summary="", description="")
        self.debates = [{"id": "7", "title": "Autofreie Innenstadt?", "description": "<p>Pro und contra</p>",
                         "public_created_at": created(3, 9), "cached_votes_up": 4, "cached_votes_down": 1,
                         "cached_votes_total": 5, "public_author": None, "tags": []}]
        self.comments, ids = [], iter(range(501, 600))

        def add(kind, target, ancestry, day):
            i = next(ids)
            self.comments.append({
                "id": str(i), "body": f"Kommentar {i}", "ancestry": ancestry, "commentable_id": target,
                "commentable_type": kind, "cached_votes_up": i % 5, "cached_votes_down": i % 3,
                "cached_votes_total": i % 5 + i % 3, "confidence_score": i % 7,
                "public_author": {"id": "950", "username": "kommentator"} if i % 2 else None,
                "public_created_at": created(day, 12, month=3 if day < 28 else 4),
            })
            return str(i)

        for k in range(10):  # proposals 101, 103, ..., 119: 102 (hidden later) has none
            root = add("Proposal", 101 + 2 * k, None, 1 + k)
            reply = add("Proposal", 101 + 2 * k, root, 2 + k)
            add("Proposal", 101 + 2 * k, f"{root}/{reply}", 28 if k == 9 else 3 + k)
            if k == 3:
                debate = add("Debate", 7, None, 5)
                add("Debate", 7, debate, 6)
            if k == 6:
                add("Debate", 7, None, 9)
                add("Budget::Investment", 3, None, 9)

    @staticmethod
    def by_id(items, id):
        return next(x for x in items if x["id"] == id)

    def change(self):
        """Between two syncs: one proposal edited, one hidden by a moderator, one new (created
        now), one comment (a leaf reply) hidden."""
        self.by_id(self.proposals, "101")["title"] = "Vorschlag 1 (überarbeitet)"
        self.by_id(self.proposals, "102")["hidden"] = True
        now = datetime.now(BERLIN)
        self.proposals.append({
            "id": "161", "title": "Neuer Vorschlag", "summary": "Ganz neu", "description": "<p>Neu</p>",
            "cached_votes_up": 0, "confidence_score": 0, "hot_score": 0, "geozone": None, "geozone_id": None,
            "public_author": None, "public_created_at": now.strftime("%Y-%m-%d %H:00:00 %z"), "retired_at": None, "tags": [],
        })
        self.by_id(self.comments, "503")["hidden"] = True

    def views(self):
        """The records as the API sees them: hidden ones and comments of hidden things gone."""
        proposals = [p for p in self.proposals if not p.get("hidden")]
        debates = [d for d in self.debates if not d.get("hidden")]
        live = {("Proposal", p["id"]) for p in proposals} | {("Debate", d["id"]) for d in debates}
        live |= {("Budget::Investment", "3"), ("Poll", "1")}
        comments = [c for c in self.comments if not c.get("hidden") and (c["commentable_type"], str(c["commentable_id"])) in live]

        def on(kind, x):
            mine = [c for c in comments if c["commentable_type"] == kind and str(c["commentable_id"]) == x["id"]]
            return dict(x, comments=mine, comments_count=len(mine), votes_for=[])

        proposals = [on("Proposal", p) for p in proposals]
        debates = [on("Debate", d) for d in debates]
        users = {}
        for x in proposals + debates + comments:
            if x.get("public_author"):
                users.setdefault(x["public_author"]["id"], dict(x["public_author"], public_proposals=[], public_debates=[], public_comments=[]))
        for name, items in (("public_proposals", proposals), ("public_debates", debates), ("public_comments", comments)):
            for x in items:
                if x.get("public_author"):
                    users[x["public_author"]["id"]][name].append(x)
        geozones = [{"id": "3", "name": "Beuel"}, {"id": "4", "name": "Innenstadt"}]
        tags = [{"id": "1", "kind": "category", "name": "Umwelt", "taggings_count": 20}]
        return {"proposal": proposals, "debate": debates, "comment": comments, "user": list(users.values()),
                "geozone": geozones, "tag": tags, "vote": []}

    def execute(self, query, variables, operation=None):
        try:
            document = parse(query)
        except GraphQLError as e:
            return {"errors": [e.formatted]}
        errors = validate(self.schema, document)
        if errors:
            return {"errors": [e.formatted for e in errors]}
        fragments = {d.name.value: d for d in document.definitions if not isinstance(d, OperationDefinitionNode)}
        for op in document.definitions:
            if isinstance(op, OperationDefinitionNode) and (d := depth(op.selection_set.selections, fragments)) > MAX_DEPTH:
                return {"errors": [{"message": f"Query has depth of {d}, which exceeds max depth of {MAX_DEPTH}"}]}
        root = {}
        for name, items in self.views().items():
            root[name + "s"] = lambda _items=items, **_: _items
            root[name] = lambda id, _items=items, _name=name, **_: self.find(_items, _name, id)
        result = execute(self.schema, document, root_value=root, variable_values=variables,
                         operation_name=operation, field_resolver=resolve)
        out = {} if result.data is None else {"data": result.data}
        if result.errors:
            out["errors"] = [e.formatted for e in result.errors]
        return out

    @staticmethod
    def find(items, name, id):
        for x in items:
            if x["id"] == str(id):
                return x
        raise GraphQLError(f"Couldn't find {name.capitalize()} with 'id'={id}")

    def handle(self, method, path, query, headers, body):
        if path != "/graphql" or method not in ("GET", "POST"):
            return 404, {"error": "not found"}, []
        try:
            if method == "GET":
                params = {k: v[0] for k, v in query.items()}
            elif (headers.get("Content-Type") or "").startswith("application/graphql"):
                params = {"query": (body or b"").decode()}
            else:
                params = json.loads(body or b"{}")
            variables = params.get("variables")
            if isinstance(variables, str):  # the old controller's JSON.parse(params[:variables])
                variables = json.loads(variables) if variables not in ("", "null") else None
        except (ValueError, AttributeError):
            return 400, {"message": "Error parsing JSON"}, []
        if not params.get("query"):
            return 400, {"message": "Query string not present"}, []
        return 200, self.execute(params["query"], variables or {}, params.get("operationName")), []


def at(s):
    """A time as the hub shows it, or as CONSUL renders it, as a comparable datetime."""
    return datetime.strptime(s, "%Y-%m-%d %H:%M:%S %z") if " " in s else datetime.fromisoformat(s.replace("Z", "+00:00"))


def scenario(binary, database, hub, suffix):
    from run import broken_sync, check, cli, first_sync, records  # here, not at the top: run.py may import this module

    tool = Consul()
    tool.seed()
    server, url = serve(tool)
    name = f"consul-{suffix}"
    added = json.loads(cli(binary, database, "source", "add", "--kind", "consul", "--name", name, "--url", url,
                           "--municipality", "05315000", "--interval", "60").stdout)
    check(added["name"] == name and added["credentials"] is False, added)

    out = first_sync(binary, database, name, tool)
    check("1 rejected" in out and "proposal-142" in out, out)
    # 3 pages of proposals (25, 25, 10) and 2 of comments (25, 9), the refused request and the one
    # without an answer.
    check(tool.control.requests == 7, f"{tool.control.requests} requests")  # and the one without an answer
    processes = records(hub, "processes", name)
    check(len(processes) == 1, processes)
    p = processes[0]
    check(p["external_id"] == "proposals" and p["status"] == "open" and p["url"] == f"{url}/proposals", p)
    check(p["title"] == {"de": "Vorschläge (127.0.0.1)", "en": "Proposals (127.0.0.1)"}, p)
    check(p["municipality"] == "05315000" and p["provenance"]["via"] == "consul", p)
    contributions = records(hub, "contributions", name)
    check(len(contributions) == 89, len(contributions))  # 60 proposals, one unmappable; 30 comments
    by = {c["external_id"]: c for c in contributions}
    one = by["proposal-101"]
    check(one["kind"] == "proposal" and one["process"] == "proposals" and one["title"] == {"de": "Vorschlag 1"}, one)
    check(one["text"] == {"de": "Begründung 1: mehr Bäume & Bänke. Bitte prüfen."}, one)
    check(one["votes"] == {"up": 1, "down": 0} and one.get("status") is None, one)
    check(at(one["created_at"]) == at(created(2, 9)) == at(one["updated_at"]), one)
    retired = by["proposal-105"]
    check(retired["status"] == "withdrawn", retired)
    check(at(retired["created_at"]) == at(created(6, 13)), retired)
    check(at(retired["updated_at"]) == at("2026-03-15T10:00:00+01:00"), retired)
    check(by["proposal-110"]["text"] == {"de": "Kurzfassung 10"}, by["proposal-110"])
    check(at(by["proposal-120"]["created_at"]) == datetime(2026, 5, 4, 16, tzinfo=timezone.utc), by["proposal-120"])
    root, reply, deep = by["comment-501"], by["comment-502"], by["comment-503"]
    check(root["kind"] == "comment" and root["process"] == "proposals" and root["parent"] == "proposal-101", root)
    check(root["text"] == {"de": "Kommentar 501"} and root["votes"] == {"up": 1, "down": 0}, root)
    check(at(root["created_at"]) == at(created(1, 12, month=3)) == at(root["updated_at"]), root)
    check(reply["parent"] == "comment-501" and deep["parent"] == "comment-502", (reply, deep))
    check(by["comment-533"]["parent"] == "comment-532", by["comment-533"])  # the last thread: 532, 533, 534
    check(not any(k in by for k in ("comment-513", "comment-514", "comment-524", "comment-525")),
          "comments on a Debate or a Budget::Investment were taken")

    out = cli(binary, database, "sync", name).stdout
    check("0 created, 0 updated" in out and "0 deleted" in out, out)

    tool.change()
    out = cli(binary, database, "sync", name).stdout
    # Updated: proposal 101 and the process, whose updated_at follows the newest proposal (161).
    check("1 created, 2 updated" in out and "2 deleted" in out, out)
    by = {c["external_id"]: c for c in records(hub, "contributions", name)}
    check(len(by) == 88, len(by))  # 89, a proposal and a comment hidden, a proposal new
    check(by["proposal-101"]["title"] == {"de": "Vorschlag 1 (überarbeitet)"}, "the edit is missing")
    check("proposal-102" not in by and "comment-503" not in by, "a hidden record is still listed")
    check(by["proposal-161"]["title"] == {"de": "Neuer Vorschlag"} and by["proposal-161"]["text"] == {"de": "Neu"}, "the new proposal")
    since = {c["external_id"]: c for c in records(hub, "contributions", name, modified_since="2000-01-01T00:00:00Z")}
    check(since["proposal-102"]["deleted"] is True and since["comment-503"]["deleted"] is True, "no tombstones")

    tool.by_id(tool.proposals, "103")["title"] = "Darf nicht ankommen"
    broken_sync(binary, database, name, tool, 2)  # the third page of proposals answers 500
    check(not any(c.get("title") == {"de": "Darf nicht ankommen"} for c in records(hub, "contributions", name)), "half a sync was written")
    server.shutdown()
    return "GraphQL over CONSUL's schema, 3+2 pages of 25, retired, replies by ancestry, Debate comments skipped, hidden = tombstone"
