"""gflags: global flags shared by all processes (SER modules/gflags, 0.9 and 2.0).

Switches settable at run time through the FIFO/RPC interface and tested
from the script; 2.0 also loads global attributes ($g.*) from the DB.
"""

from stdlib_modules.exports import F, INT, O, R, STR, V09_20, V20, Module, fn, param

EXPORTS = Module(
    name="gflags",
    doc="global flags",
    dialects=V09_20,
    functions=(
        fn("set_gflag", 1, R | F | O, doc="set global flag n"),
        fn("reset_gflag", 1, R | F | O, doc="reset global flag n"),
        fn("is_gflag", 1, R | F | O, doc="global flag n is set"),
        fn("flush_gflag", 0, R | F | O, dialects=V20, doc="save the global flags to the DB"),
    ),
    params=(
        param("initial", INT, 0, doc="initial flag bitmask"),
        param("db_url", STR, "mysql://serro:47serro11@localhost/ser", V20, doc="database URL"),
        param("load_global_attrs", INT, 0, V20, doc="load global attributes from the DB"),
        param("global_attrs_table", STR, "global_attrs", V20, doc="global attributes table"),
        param("global_attrs_name", STR, "name", V20, doc="name column"),
        param("global_attrs_type", STR, "type", V20, doc="type column"),
        param("global_attrs_value", STR, "value", V20, doc="value column"),
        param("global_attrs_flags", STR, "flags", V20, doc="flags column"),
    ),
)
