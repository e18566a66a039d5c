"""mediaproxy: NAT traversal via AG Projects' MediaProxy (SER modules/mediaproxy, 0.9 and 2.0).

Alternative to nathelper: detects NATed clients, fixes Contact and asks
the external mediaproxy dispatcher to relay RTP.
"""

from stdlib_modules.exports import F, INT, O, R, STR, V09_20, Module, fn, param

EXPORTS = Module(
    name="mediaproxy",
    doc="NAT traversal via MediaProxy",
    dialects=V09_20,
    functions=(
        fn("fix_contact", 0, R | O, doc="Contact host:port <- packet source"),
        fn("use_media_proxy", 0, R | O, doc="route media through MediaProxy"),
        fn("end_media_session", 0, R | O | F, doc="end the MediaProxy session"),
        fn("client_nat_test", 1, R | O | F, doc="NAT tests: private Contact, Via/source mismatch, ..."),
    ),
    params=(
        param("mediaproxy_socket", STR, "/var/run/proxydispatcher.sock", doc="dispatcher socket"),
        param("sip_asymmetrics", STR, None, doc="file of asymmetric SIP UAs"),
        param("rtp_asymmetrics", STR, None, doc="file of asymmetric RTP UAs"),
        param("natping_interval", INT, 60, doc="keep-alive ping interval (s)"),
    ),
)
