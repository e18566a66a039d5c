"""registrar: REGISTER processing (SER modules/registrar; RFC 3261 section 10.3).

`save` stores the contacts of a REGISTER in a usrloc table and replies
200 with the current bindings; `lookup` rewrites the R-URI to the
registered contacts (extra ones become branches). 2.0 adds aliases with
an explicit AOR argument and NAT flags that accept flag names.
"""

from stdlib_modules.exports import (
    F, FLAG, INT, O, R, STR, V08_09, V09, V20, Module, fn, param,
)

EXPORTS = Module(
    name="registrar",
    doc="REGISTER processing",
    functions=(
        fn("save", 1, R, dialects=V08_09, doc="store contacts of the REGISTER in table and reply"),
        fn("save_noreply", 1, R, dialects=V08_09, doc="save without sending a reply"),
        fn("save_memory", 1, R, dialects=V09, doc="save into memory only"),
        fn("lookup", 1, R | F, dialects=V08_09, doc="R-URI <- registered contacts of its AOR"),
        fn("registered", 1, R | F, dialects=V09, doc="is the R-URI AOR registered"),
        # 2.0
        fn("save", 1, R | F, dialects=V20, doc="store contacts of the REGISTER in table and reply"),
        fn("save", 2, R | F, dialects=V20, doc="save with the AOR given as second argument"),
        fn("save_contacts", 1, R | F, dialects=V20, doc="alias of save"),
        fn("save_contacts", 2, R | F, dialects=V20, doc="alias of save/2"),
        fn("save_noreply", 1, R | O | F, dialects=V20, doc="save without a reply"),
        fn("save_noreply", 2, R | O | F, dialects=V20, doc="save without a reply, explicit AOR"),
        fn("save_contacts_noreply", 1, R | F, dialects=V20, doc="alias of save_noreply"),
        fn("save_contacts_noreply", 2, R | F, dialects=V20, doc="alias of save_noreply/2"),
        fn("save_memory", 1, R | F, dialects=V20, doc="save into memory only"),
        fn("save_memory", 2, R | F, dialects=V20, doc="save into memory only, explicit AOR"),
        fn("save_mem_nr", 1, R | F, dialects=V20, doc="memory-only save without a reply"),
        fn("save_mem_nr", 2, R | F, dialects=V20, doc="memory-only save without a reply, explicit AOR"),
        fn("lookup", 1, R | F, dialects=V20, doc="R-URI <- registered contacts"),
        fn("lookup", 2, R | F, dialects=V20, doc="lookup with the URI given as second argument"),
        fn("lookup_contacts", 1, R | F, dialects=V20, doc="alias of lookup"),
        fn("lookup_contacts", 2, R | F, dialects=V20, doc="alias of lookup/2"),
        fn("registered", 1, R | F, dialects=V20, doc="is the R-URI AOR registered"),
        fn("registered", 2, R | F, dialects=V20, doc="is the given URI registered"),
    ),
    params=(
        param("default_expires", INT, 3600, doc="expires when the REGISTER gives none (s)"),
        param("min_expires", INT, 60, doc="lower bound of expires (0 = off)"),
        param("max_expires", INT, 0, doc="upper bound of expires (0 = off)"),
        param("default_q", INT, 0, doc="q x 100 for contacts without q"),
        param("append_branches", INT, 1, doc="lookup adds all contacts as branches"),
        param("case_sensitive", INT, 0, V08_09, doc="case-sensitive AOR comparison"),
        param("desc_time_order", INT, 0, V08_09, doc="order contacts by last update"),
        param("nat_flag", INT, 4, V08_09, doc="message flag marking NATed contacts (0.8.12+)"),
        param("use_domain", INT, 0, V08_09, doc="AOR is user@domain"),
        param("realm_prefix", STR, "", V08_09, doc="prefix stripped from the domain"),
        param("received_param", STR, "received", V09, doc="Contact parameter reporting the received address"),
        param("received_avp", INT, 42, V09, doc="AVP id holding the received URI"),
        param("max_contacts", INT, 0, V09, doc="contacts per AOR (0 = unlimited)"),
        param("retry_after", INT, 0, V09, doc="Retry-After value for 503 replies"),
        # 2.0
        param("save_nat_flag", FLAG, 4, V20, doc="flag (number or name) saved with NATed contacts"),
        param("load_nat_flag", FLAG, 4, V20, doc="flag (number or name) set by lookup for NATed contacts"),
        param("received_param", STR, "received", V20, doc="Contact parameter reporting the received address"),
        param("max_contacts", INT, 0, V20, doc="contacts per AOR (0 = unlimited)"),
        param("received_to_uri", INT, 0, V20, doc="put the received address into the contact URI"),
        param("reply_code_attr", STR, "$code", V20, doc="AVP receiving the reply code"),
        param("reply_reason_attr", STR, "$reason", V20, doc="AVP receiving the reply reason"),
        param("contact_attr", STR, "$contact", V20, doc="AVP receiving the reply contacts"),
        param("aor_attr", STR, "$aor", V20, doc="AVP holding the AOR"),
        param("server_id_attr", STR, "$server_id", V20, doc="AVP holding the server id"),
        param("trust_received_flag", FLAG, None, V20, doc="flag: trust the received parameter of contacts"),
    ),
)
