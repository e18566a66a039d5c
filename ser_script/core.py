"""SER's core: the actions, global parameters and condition operands of ser.cfg.

The same idea as a module's export table (stdlib_modules/exports.py), for what
the core itself offers: each core action lists the argument forms it takes
(cfg.y), the dialects that have it and whether it may be written without
parentheses; each global parameter its value type and dialects (cfg.lex /
main.c); each operand the operators and right-hand sides it accepts (route.c).
"""

from __future__ import annotations

from dataclasses import dataclass

from stdlib_modules.exports import ALL, V08, V08_09, V09_20, V20

# Argument kinds of core actions, checked by ser_script.checker:
NUM = "number"          # NUMBER (yes/no count as numbers)
STR = "string"          # quoted string
HOST = "host"           # hostname, IP address or string
URIHOST = "uri:host"
URIPORT = "uri:port"
SOCKET = "socket"       # [proto:]addr[:port]
FLAG = "flag"           # flag number; 2.0 also a declared flag name
ROUTE = "route"         # route number; 2.0 also a name
AVP = "attribute"       # 2.0 $avp
ANY = "value"           # 2.0 drop/exit/return values: number or $?


@dataclass(frozen=True, slots=True)
class CoreAction:
    name: str
    forms: tuple[tuple[str, ...], ...]
    dialects: frozenset[str] = ALL
    bare: bool = False              # may be written `name;`
    aliases: tuple[str, ...] = ()
    onsend: bool = False            # allowed in 2.0 onsend_route


def _forward(name: str, dialects: frozenset[str] = ALL) -> CoreAction:
    return CoreAction(name, ((HOST,), (HOST, NUM), (URIHOST,), (URIHOST, URIPORT),
                             (URIHOST, NUM)), dialects)


_ACTIONS = (
    _forward("forward"), _forward("forward_udp"), _forward("forward_tcp"),
    _forward("forward_tls", frozenset({"0.8", "0.9", "2.0"})),
    CoreAction("send", ((HOST,), (HOST, NUM)), onsend=True),
    CoreAction("send_tcp", ((HOST,), (HOST, NUM)), onsend=True),
    CoreAction("log", ((STR,), (NUM, STR)), onsend=True),
    CoreAction("error", ((STR, STR),)),
    CoreAction("exec", ((STR,),)),
    CoreAction("route", ((ROUTE,),)),
    CoreAction("setflag", ((FLAG,),), onsend=True),
    CoreAction("resetflag", ((FLAG,),), onsend=True),
    CoreAction("isflagset", ((FLAG,),), onsend=True),
    CoreAction("len_gt", ((NUM,),), V08),
    CoreAction("rewritehost", ((STR,),), aliases=("sethost", "seth")),
    CoreAction("rewritehostport", ((STR,),), aliases=("sethostport", "sethp")),
    CoreAction("rewriteuser", ((STR,),), aliases=("setuser", "setu")),
    CoreAction("rewriteuserpass", ((STR,),), aliases=("setuserpass", "setup")),
    CoreAction("rewriteport", ((STR,),), aliases=("setport", "setp")),
    CoreAction("rewriteuri", ((STR,),), aliases=("seturi",)),
    CoreAction("revert_uri", ((),), bare=True),
    CoreAction("prefix", ((STR,),)),
    CoreAction("strip", ((NUM,),)),
    CoreAction("strip_tail", ((NUM,),)),
    CoreAction("append_branch", ((), (STR,), (STR, STR)), bare=True),
    CoreAction("force_rport", ((),), bare=True, aliases=("add_rport",)),
    CoreAction("force_tcp_alias", ((), (NUM,)), V09_20, bare=True, aliases=("add_tcp_alias",)),
    CoreAction("set_advertised_address", ((HOST,),)),
    CoreAction("set_advertised_port", ((NUM,),)),
    CoreAction("force_send_socket", ((SOCKET,),), V09_20),
    CoreAction("setavpflag", ((AVP, STR), (AVP, ROUTE)), V20),
    CoreAction("resetavpflag", ((AVP, STR), (AVP, ROUTE)), V20),
    CoreAction("isavpflagset", ((AVP, STR), (AVP, ROUTE)), V20),
)

CORE_ACTIONS: dict[str, CoreAction] = {}
for _action in _ACTIONS:
    for _name in (_action.name, *_action.aliases):
        CORE_ACTIONS[_name] = _action

# --- global parameters ---------------------------------------------------------------

INT = "int"             # NUMBER
BOOL = "bool"           # NUMBER, usually yes/no
TEXT = "text"           # STRING or bare name
SOCKETS = "sockets"     # list of [proto:]addr[:port]
ADDRESS = "address"     # IP, hostname or string


@dataclass(frozen=True, slots=True)
class GlobalParam:
    name: str
    type: str
    dialects: frozenset[str] = ALL
    aliases: tuple[str, ...] = ()


def _params(type: str, names: str, dialects: frozenset[str] = ALL) -> list[GlobalParam]:
    return [GlobalParam(n, type, dialects) for n in names.split()]


_GLOBALS = [
    *_params(INT, "debug children memlog mem_log maxbuffer port tcp_children "
             "tcp_send_timeout tcp_connect_timeout tls_port_no tls_handshake_timeout "
             "tls_send_timeout tls_log"),
    *_params(BOOL, "fork log_stderror check_via dns rev_dns syn_branch sip_warning "
             "server_signature reply_to_via mhomed disable_tcp disable_tls tls_verify "
             "tls_require_certificate"),
    *_params(TEXT, "log_facility user uid group gid chroot workdir wdir tls_method "
             "tls_certificate tls_private_key tls_ca_list"),
    *_params(TEXT, "fifo", V08_09),
    *_params(SOCKETS, "listen alias"),
    *_params(ADDRESS, "advertised_address"),
    *_params(INT, "advertised_port"),
    *_params(INT, "fifo_mode", V08_09),
    *_params(TEXT, "statistics", V08_09),
    *_params(BOOL, "disable_core_dump mcast_loopback tcp_accept_aliases", V09_20),
    *_params(INT, "open_files_limit mcast_ttl", V09_20),
    *_params(INT, "sock_mode file_mode unix_sock_children unix_tx_timeout", frozenset({"0.9"})),
    *_params(TEXT, "fifo_dir sock_user sock_group fifo_user fifo_group fifo_db_url unix_sock",
             frozenset({"0.8", "0.9"})),
    *_params(INT, "exit_timeout ser_kill_timeout memdbg mem_dbg tos tcp_connection_lifetime "
             "tcp_max_connections dns_retr_time dns_retr_no dns_servers_no "
             "dns_cache_negative_ttl dns_cache_min_ttl dns_cache_max_ttl dns_cache_mem "
             "dns_cache_gc_interval dst_blacklist_mem dst_blacklist_expire dst_blacklist_ttl "
             "dst_blacklist_gc_interval stun_refresh_interval", V20),
    *_params(BOOL, "pmtu_discovery phone2tel dns_try_ipv6 dns_use_search_list use_dns_cache "
             "use_dns_failover dns_cache_flags use_dst_blacklist stun_allow_stun stun_allow_fp "
             "tls_disable enable_tls tls_enable", V20),
    *_params(TEXT, "tcp_poll_method", V20),
]
GLOBAL_PARAMS: dict[str, GlobalParam] = {p.name: p for p in _GLOBALS}

# --- condition operands ---------------------------------------------------------------

STRING_OPS = ("==", "!=", "=~")
EQ_OPS = ("==", "!=")
INT_OPS = ("==", "!=", "<", ">", "<=", ">=")


@dataclass(frozen=True, slots=True)
class Operand:
    name: str
    kind: str               # "uri", "method", "ip", "port", "proto", "af"
    dialects: frozenset[str] = ALL
    onsend_only: bool = False


OPERANDS = {o.name: o for o in (
    Operand("method", "method"),
    Operand("uri", "uri"),
    Operand("status", "uri"),
    Operand("from_uri", "uri", V09_20),
    Operand("to_uri", "uri", V09_20),
    Operand("src_ip", "ip"),
    Operand("dst_ip", "ip"),
    Operand("src_port", "port"),
    Operand("dst_port", "port"),
    Operand("proto", "proto"),
    Operand("af", "af"),
    Operand("snd_ip", "ip", V20, onsend_only=True),
    Operand("to_ip", "ip", V20, onsend_only=True),
    Operand("snd_port", "port", V20, onsend_only=True),
    Operand("to_port", "port", V20, onsend_only=True),
    Operand("snd_proto", "proto", V20, onsend_only=True),
    Operand("to_proto", "proto", V20, onsend_only=True),
    Operand("snd_af", "af", V20, onsend_only=True),
    Operand("to_af", "af", V20, onsend_only=True),
)}

# Protocol keywords are case-sensitive: lower or upper case only.
PROTO_WORDS = frozenset({"udp", "tcp", "tls", "sctp", "UDP", "TCP", "TLS", "SCTP"})

# Words SER's lexer reserves: an unquoted hostname may not contain them as a label.
RESERVED_WORDS = frozenset(
    set(CORE_ACTIONS) | set(GLOBAL_PARAMS) | set(OPERANDS) | {
        "if", "else", "route", "failure_route", "onreply_route", "reply_route",
        "branch_route", "onsend_route", "loadmodule", "modparam", "drop", "break",
        "exit", "return", "myself", "max_len", "udp", "tcp", "tls", "sctp", "UDP", "TCP",
        "TLS", "inet", "inet6", "INET", "INET6", "yes", "no", "true", "false", "on", "off",
        "enable", "disable", "and", "or", "not", "SSLv23", "SSLv2", "SSLv3", "TLSv1",
    })

# Route block kinds: the dialects that have them and the block numbers they take.
ROUTE_KINDS = {
    "route": (ALL, 0),
    "failure_route": (frozenset({"0.8", "0.9", "2.0"}), 1),
    "onreply_route": (frozenset({"0.8", "0.9", "2.0"}), 1),
    "reply_route": (V08, 1),
    "branch_route": (V20, 1),
    "onsend_route": (V20, 0),
}
MAX_ROUTE_NUMBER = {"0.8": 19, "0.9": 19}
