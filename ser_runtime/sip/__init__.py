"""SIP message and URI parsing for the SER runtime (RFC 3261, RFC 3581, RFC 3966).

Parsing is lazy like SER's: `SipMessage.parse` indexes the start line and
header lines once; header values and URIs are parsed when first read.
Edits are recorded as splices and applied by `SipMessage.serialize`.
"""

from .errors import SipParseError
from .framing import MAX_HEADERS, MAX_LINE, MAX_MESSAGE
from .headers import ContentType, CSeq, HeaderField, split_values
from .message import SipMessage, stream_message_length
from .nameaddr import NameAddr
from .names import canonical_name, header_key
from .params import Params
from .uri import SipUri, unescape
from .via import Via

__all__ = [
    "CSeq", "ContentType", "HeaderField", "MAX_HEADERS", "MAX_LINE", "MAX_MESSAGE", "NameAddr",
    "Params", "SipMessage", "SipParseError", "SipUri", "Via", "canonical_name", "header_key",
    "split_values", "stream_message_length", "unescape",
]
