"""schemathesis hooks (SCHEMATHESIS_HOOKS): the bulk import's body is NDJSON, text on the wire."""

import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "text/plain")
