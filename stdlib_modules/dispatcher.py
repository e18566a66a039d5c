"""dispatcher: destination-set load balancing (SER modules/dispatcher, Voice System; 0.9 and 2.0).

`ds_select_dst(set, alg)` picks a destination from a set of the list
file (hash of Call-ID or From, or first) and sets it as the outbound
destination; 2.0 `ds_select_new` rewrites the R-URI instead.
"""

from stdlib_modules.exports import INT, R, STR, V09_20, V20, Module, fn, param

EXPORTS = Module(
    name="dispatcher",
    doc="load balancing",
    dialects=V09_20,
    functions=(
        fn("ds_select_dst", 2, R, doc="destination URI <- entry of set: set, algorithm"),
        fn("ds_select_new", 2, R, dialects=V20, doc="R-URI <- entry of set: set, algorithm"),
    ),
    params=(
        param("list_file", STR, "dispatcher.list", doc="list of 'setid sip:uri' lines"),
        param("force_dst", INT, 0, doc="overwrite an already set destination URI"),
    ),
)
