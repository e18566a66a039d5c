"""Header field names: compact forms and canonical spellings (RFC 3261 §7.3.3, §20).

A header is identified by its key: the lower-case long name, so that `v`,
`VIA` and `Via` all have the key "via".  Compact forms beyond RFC 3261 come
from RFC 3515 (r), 3841 (a, d, j), 3892 (b), 4028 (x), 6665 (o, u) and
8224 (y).
"""

COMPACT_FORMS = {
    "a": "accept-contact",
    "b": "referred-by",
    "c": "content-type",
    "d": "request-disposition",
    "e": "content-encoding",
    "f": "from",
    "i": "call-id",
    "j": "reject-contact",
    "k": "supported",
    "l": "content-length",
    "m": "contact",
    "o": "event",
    "r": "refer-to",
    "s": "subject",
    "t": "to",
    "u": "allow-events",
    "v": "via",
    "x": "session-expires",
    "y": "identity",
}

_SPELLINGS = (
    "Accept", "Accept-Contact", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow",
    "Allow-Events", "Authentication-Info", "Authorization", "Call-ID", "Call-Info", "Contact",
    "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length",
    "Content-Type", "CSeq", "Date", "Error-Info", "Event", "Expires", "From", "Identity",
    "In-Reply-To", "Max-Forwards", "Min-Expires", "MIME-Version", "Organization", "Path",
    "P-Asserted-Identity", "P-Preferred-Identity", "Priority", "Privacy", "Proxy-Authenticate",
    "Proxy-Authorization", "Proxy-Require", "RAck", "Reason", "Record-Route", "Refer-To",
    "Referred-By", "Reject-Contact", "Replaces", "Reply-To", "Request-Disposition", "Require",
    "Retry-After", "Route", "RSeq", "Server", "Service-Route", "Session-Expires",
    "Subject", "Subscription-State", "Supported", "Timestamp", "To", "Unsupported",
    "User-Agent", "Via", "Warning", "WWW-Authenticate",
)

CANONICAL_NAMES = {name.lower(): name for name in _SPELLINGS}


def header_key(name: str) -> str:
    """The lookup key of a header name: lower-case, compact forms expanded."""
    lowered = name.strip(" \t").lower()
    return COMPACT_FORMS.get(lowered, lowered)


def canonical_name(name: str) -> str:
    """The usual spelling of a header name ("i" -> "Call-ID"); unknown names as given."""
    return CANONICAL_NAMES.get(header_key(name), name)


def _bytes_keys() -> dict[bytes, str]:
    # The message indexer looks names up as written; listing the spellings UAs
    # actually send spares a lower() call for nearly every header.
    table = {}
    for key, spelled in CANONICAL_NAMES.items():
        for variant in (spelled, key, spelled.upper()):
            table[variant.encode()] = key
    for short, key in COMPACT_FORMS.items():
        table[short.encode()] = key
        table[short.upper().encode()] = key
    return table


KEYS_BY_BYTES = _bytes_keys()
