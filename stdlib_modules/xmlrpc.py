"""xmlrpc: management RPC over XML-RPC/HTTP (SER 2.0 modules/xmlrpc).

HTTP POSTs arriving on a SIP TCP socket are routed through the script
(the route named by `route`); `dispatch_rpc` runs the RPC and answers.
The 2006 line also had `create_via`, adding the Via HTTP clients lack.
"""

from stdlib_modules.exports import INT, R, STR, V20, Module, fn, param

EXPORTS = Module(
    name="xmlrpc",
    doc="XML-RPC management interface",
    dialects=V20,
    functions=(
        fn("dispatch_rpc", 0, R, doc="execute the XML-RPC request and reply"),
        fn("xmlrpc_reply", 2, R, doc="send an XML-RPC fault: code, reason"),
        fn("create_via", 0, R, doc="add a Via for the HTTP request (2006 line)"),
    ),
    params=(
        param("route", STR, None, doc="route block that handles XML-RPC requests"),
        param("enable_introspection", INT, 1, doc="answer system.* introspection calls"),
        param("autoconversion", INT, 0, doc="convert parameter types when possible"),
        param("escape_cr", INT, 1, doc="escape CR in replies"),
        param("double_lf_to_crlf", INT, 0, doc="LFLF in requests means CRLF"),
        param("mode", INT, 0, doc="1: do not route non-SIP requests through the script"),
        param("url_match", STR, None, doc="only HTTP URLs matching this regex"),
        param("url_skip", STR, None, doc="skip HTTP URLs matching this regex"),
    ),
)
