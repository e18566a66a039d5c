"""nathelper: NAT traversal helpers and rtpproxy control (SER modules/nathelper, Porta Software).

Detects clients behind NAT, rewrites Contact and SDP with the packet's
source address, relays media through rtpproxy, and pings registered NATed
contacts to keep bindings open. 0.8.12 had the first four functions
(`nat_uac_test` only in request routes).
"""

from stdlib_modules.exports import (
    B, F, INT, O, R, STR, V08, V09, V09_20, V20, Module, fn, param,
)

EXPORTS = Module(
    name="nathelper",
    doc="NAT traversal and rtpproxy",
    functions=(
        # 0.8.12
        fn("fix_nated_contact", 0, R | O, dialects=V08, doc="Contact host:port <- packet source"),
        fn("fix_nated_sdp", 1, R | O, dialects=V08, doc="flags: 1 add direction:active, 2 rewrite media IP"),
        fn("force_rtp_proxy", 0, R | O, dialects=V08, doc="route media through rtpproxy"),
        fn("nat_uac_test", 1, R, dialects=V08, doc="flags: 1 RFC1918 Contact, 2 Via differs from source"),
        # 0.9
        fn("fix_nated_contact", 0, R | O, dialects=V09, doc="Contact host:port <- packet source"),
        fn("fix_nated_sdp", 1, R | O | F, dialects=V09, doc="flags: 1 add direction:active, 2 rewrite media IP"),
        fn("unforce_rtp_proxy", 0, R | O | F, dialects=V09, doc="delete the rtpproxy session"),
        fn("force_rtp_proxy", 0, R | O, dialects=V09, doc="route media through rtpproxy"),
        fn("force_rtp_proxy", 1, R | O, dialects=V09, doc="force_rtp_proxy with option letters"),
        fn("force_rtp_proxy", 2, R | O, dialects=V09, doc="force_rtp_proxy with options and advertised IP"),
        fn("nat_uac_test", 1, R | O | F, dialects=V09, doc="bitwise NAT tests (1,2,4,8,16); true if any holds"),
        # 2.0
        fn("fix_nated_contact", 0, R | O | B, dialects=V20, doc="Contact host:port <- packet source"),
        fn("fix_nated_sdp", 1, R | O | F | B, dialects=V20, doc="flags: 1 add direction:active, 2 rewrite media IP"),
        fn("unforce_rtp_proxy", 0, R | O | F | B, dialects=V20, doc="delete the rtpproxy session"),
        fn("force_rtp_proxy", 0, R | O | F | B, dialects=V20, doc="route media through rtpproxy"),
        fn("force_rtp_proxy", 1, R | O | F | B, dialects=V20, doc="force_rtp_proxy with option letters"),
        fn("force_rtp_proxy", 2, R | O | F | B, dialects=V20, doc="force_rtp_proxy with options and advertised IP"),
        fn("nat_uac_test", 1, R | O | F | B, dialects=V20, doc="bitwise NAT tests; true if any holds"),
        fn("ping_contact", 1, R, dialects=V20, doc="send a NAT keep-alive to the contact"),
        fn("start_recording", 0, R | O, dialects=V20, doc="ask rtpproxy to record the session"),
        # 0.9 and 2.0
        fn("fix_nated_register", 0, R, dialects=V09_20, doc="store the source address in received_avp"),
        fn("add_rcv_param", 0, R, dialects=V09_20, doc="add ;received=\"sip:ip:port\" to Contacts"),
    ),
    params=(
        param("natping_interval", INT, 0, doc="keep-alive ping interval (s), 0 = off"),
        param("ping_nated_only", INT, 0, doc="ping only contacts saved with the NAT flag"),
        param("rtpproxy_sock", STR, "/var/run/rtpproxy.sock", V08, doc="rtpproxy control socket"),
        param("rtpproxy_sock", STR, "unix:/var/run/rtpproxy.sock", V09_20, doc="rtpproxy control socket(s)"),
        param("rtpproxy_disable", INT, 0, V09_20, doc="do not use rtpproxy"),
        param("rtpproxy_disable_tout", INT, 60, V09_20, doc="retry a dead rtpproxy after (s)"),
        param("rtpproxy_retr", INT, 5, V09_20, doc="rtpproxy command retries"),
        param("rtpproxy_tout", INT, 1, V09_20, doc="rtpproxy reply timeout (s)"),
        param("received_avp", INT, 42, V09_20, doc="AVP id for the received URI (must match registrar)"),
        param("force_socket", STR, None, V09_20, doc="socket used for NAT pings"),
        param("natping_method", STR, None, V20, doc="SIP method for keep-alives (e.g. OPTIONS) instead of UDP packets"),
    ),
)
