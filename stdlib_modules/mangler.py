"""mangler: SDP and Contact mangling (SER modules/mangler).

Rewrites IPs/ports in SDP and encodes/decodes Contact URIs so that
requests to clients behind NAT can be routed through the proxy.
"""

from stdlib_modules.exports import O, R, STR, Module, fn, param

EXPORTS = Module(
    name="mangler",
    doc="SDP and Contact mangling",
    functions=(
        fn("sdp_mangle_ip", 2, R | O, doc="replace SDP IPs matching a network: net/mask, new IP"),
        fn("sdp_mangle_port", 1, R | O, doc="add an offset to SDP media ports"),
        fn("encode_contact", 2, R | O, doc="encode the Contact into the proxy's URI: prefix, proxy"),
        fn("decode_contact", 0, R, doc="restore the encoded R-URI"),
        fn("decode_contact_header", 0, R | O, doc="restore the encoded Contact header"),
    ),
    params=(
        param("contact_flds_separator", STR, "*", doc="separator of encoded Contact fields"),
    ),
)
