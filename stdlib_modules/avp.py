"""avp: attribute (AVP) manipulation (SER modules/avp, 0.9 and 2.0).

0.9: set/test AVPs and copy them to the R-URI. 2.0 works with named
attributes ($fu.x, $tu.x, $t.x, ...): set, delete, copy into headers,
replies and the destination URI, format with xlog specifiers.
"""

from stdlib_modules.exports import F, INT, O, R, V09, V09_20, V20, Module, fn, param

_ROF = R | O | F

EXPORTS = Module(
    name="avp",
    doc="AVP manipulation",
    dialects=V09_20,
    functions=(
        # 0.9
        fn("set_iattr", 2, R | F, dialects=V09, doc="add an integer AVP: name, value"),
        fn("set_sattr", 2, R | F, dialects=V09, doc="add a string AVP: name, value"),
        fn("flags2attr", 0, R | F, dialects=V09, doc="store the message flags in an AVP"),
        fn("uri2attr", 1, R | F, dialects=V09, doc="store the R-URI in an AVP"),
        fn("print_sattr", 1, R | F, dialects=V09, doc="log a string AVP"),
        fn("attr2uri", 1, R | F, doc="set the R-URI from an AVP"),
        fn("is_sattr_set", 1, R | F, dialects=V09, doc="string AVP exists"),
        fn("avp_exists", 2, R | F, dialects=V09, doc="AVP has the value"),
        # 2.0
        fn("set_iattr", 2, _ROF, dialects=V20, doc="add an integer attribute: name, value"),
        fn("set_sattr", 2, _ROF, dialects=V20, doc="add a string attribute: name, value"),
        fn("set_attr", 2, _ROF, dialects=V20, doc="add an attribute: name, value"),
        fn("print_attr", 1, _ROF, dialects=V20, doc="log an attribute"),
        fn("del_attr", 1, _ROF, dialects=V20, doc="delete all values of an attribute"),
        fn("del_attrs", 1, _ROF, dialects=V20, doc="delete a whole attribute group"),
        fn("subst_attr", 2, _ROF, dialects=V20, doc="sed-like substitution on an attribute"),
        fn("flags2attr", 1, _ROF, dialects=V20, doc="store the message flags in an attribute"),
        fn("attr2uri", 2, R | F, dialects=V20, doc="set an R-URI part (user, host, ...) from an attribute"),
        fn("dump_attrs", 0, _ROF, dialects=V20, doc="log all attributes"),
        fn("dump_attrs", 1, _ROF, dialects=V20, doc="log the attributes of a group"),
        fn("attr_equals", 2, _ROF, dialects=V20, doc="attribute equals a value"),
        fn("attr_exists", 1, _ROF, dialects=V20, doc="attribute exists"),
        fn("attr_equals_xl", 2, _ROF, dialects=V20, doc="attribute equals an xlog-formatted value"),
        fn("xlset_attr", 2, _ROF, dialects=V20, doc="set an attribute from an xlog format"),
        fn("xlfix_attr", 1, _ROF, dialects=V20, doc="evaluate an attribute holding an xlog format"),
        fn("insert_attr_hf", 1, R | F, dialects=V20, doc="insert a header named after the attribute"),
        fn("insert_attr_hf", 2, R | F, dialects=V20, doc="insert header name with the attribute value"),
        fn("append_attr_hf", 1, R | F, dialects=V20, doc="append a header named after the attribute"),
        fn("append_attr_hf", 2, R | F, dialects=V20, doc="append header name with the attribute value"),
        fn("replace_attr_hf", 1, R | F, dialects=V20, doc="replace a header named after the attribute"),
        fn("replace_attr_hf", 2, R | F, dialects=V20, doc="replace header name with the attribute value"),
        fn("attr_to_reply", 1, R | F, dialects=V20, doc="add a header to the reply from the attribute"),
        fn("attr_to_reply", 2, R | F, dialects=V20, doc="add header name with the attribute value to the reply"),
        fn("attr_destination", 1, R | F, dialects=V20, doc="set the destination URI from an attribute"),
        fn("xlset_destination", 1, R, dialects=V20, doc="set the destination URI from an xlog format"),
        fn("hdr_body2attrs", 2, _ROF, dialects=V20, doc="split a header body into attributes"),
        fn("hdr_body2attrs2", 2, _ROF, dialects=V20, doc="split a header body into attributes (variant)"),
    ),
    params=(
        param("xlbuf_size", INT, 256, V20, doc="buffer for xlog formatting"),
    ),
)
