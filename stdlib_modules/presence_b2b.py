"""presence_b2b: presence back-to-back subscriptions (SER 2.0 modules/presence_b2b; RFC 3265).

Subscribes to remote presentities on behalf of internal subscribers (pa,
rls) and handles the NOTIFYs coming back.
"""

from stdlib_modules.exports import INT, R, STR, V20, Module, fn, param

EXPORTS = Module(
    name="presence_b2b",
    doc="presence B2B subscriptions",
    dialects=V20,
    functions=(
        fn("handle_notify", 0, R, doc="process a NOTIFY for one of our subscriptions"),
    ),
    params=(
        param("default_expiration", INT, None, doc="expires of our SUBSCRIBEs (s)"),
        param("on_error_retry_time", INT, None, doc="resubscribe after an error (s)"),
        param("presence_route", STR, None, doc="Route for generated SUBSCRIBEs"),
        param("additional_presence_headers", STR, None, doc="extra headers of generated SUBSCRIBEs"),
        param("wait_for_term_notify", INT, None, doc="wait for the terminating NOTIFY (s)"),
        param("resubscribe_delta", INT, None, doc="resubscribe this long before expiry (s)"),
        param("min_resubscribe_time", INT, None, doc="minimum resubscribe interval (s)"),
        param("handle_presence_subscriptions", INT, 1, doc="handle presence event subscriptions"),
    ),
)
