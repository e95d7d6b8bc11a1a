"""The data standard's JSON Schemas, checked by a third-party validator (Python jsonschema,
draft 2020-12 with format checks): every published example validates, every example the hub
accepts comes back from the read API in a shape that validates, and a broken example fails.

Usage: standard.py HUB_URL TOKEN   (TOKEN: a client_credentials token with data:write)
"""

import copy
import json
import pathlib
import sys

import jsonschema
import requests

KINDS = {
    "process": "processes",
    "contribution": "contributions",
    "event": "events",
    "result": "results",
    "organisation": "organisations",
    "paper": "papers",
}
EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "docs" / "standard" / "examples"


def main(hub: str, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    checked = 0
    for kind, plural in KINDS.items():
        schema = requests.get(f"{hub}/standard/v1/{kind}.schema.json", timeout=10).json()
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        example = json.loads((EXAMPLES / f"{kind}.json").read_text())
        validator.validate(example)

        broken = copy.deepcopy(example)
        del broken["updated_at"]
        assert not validator.is_valid(broken), f"{kind}: a record without updated_at validates"

        r = requests.put(f"{hub}/api/v1/data/{plural}/example-{kind}", json=example, headers=auth, timeout=10)
        assert r.status_code in (200, 201), f"{kind}: {r.status_code} {r.text}"
        validator.validate(r.json())
        listed = requests.get(f"{hub}/api/v1/{plural}", params={"per_page": 100}, timeout=10).json()
        assert listed["total"] >= 1, f"{kind}: {listed}"
        for item in listed["items"]:
            validator.validate(item)
            one = requests.get(f"{hub}/api/v1/{plural}/{item['id']}", timeout=10).json()
            validator.validate(one)
            checked += 1
    print(f"data standard: {len(KINDS)} schemas, {len(KINDS)} examples and {checked} API records valid (jsonschema draft 2020-12)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
