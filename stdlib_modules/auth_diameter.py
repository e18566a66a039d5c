"""auth_diameter: digest authentication via a DIAMETER client (SER modules/auth_diameter; RFC 3588).

Talks to the external DIAMETER client (DISC) over TCP.
"""

from stdlib_modules.exports import INT, R, STR, Module, fn, param

EXPORTS = Module(
    name="auth_diameter",
    doc="DIAMETER authentication",
    functions=(
        fn("diameter_www_authorize", 1, R, doc="verify Authorization via DIAMETER: realm"),
        fn("diameter_proxy_authorize", 1, R, doc="verify Proxy-Authorization via DIAMETER: realm"),
        fn("diameter_is_user_in", 2, R, doc="group membership via DIAMETER: which, group"),
    ),
    params=(
        param("diameter_client_host", STR, "localhost", doc="DIAMETER client host"),
        param("diameter_client_port", INT, 3000, doc="DIAMETER client port"),
        param("use_domain", INT, 0, doc="send user@domain"),
    ),
)
