"""im: instant-message helper of 2002 (SER modules/im, used with jabber and sms).

Its only script function dumps a MESSAGE (From, To, body) into a FIFO
for an external IM gateway; the module was dropped after 2002.
"""

from stdlib_modules.exports import R, STR, V08, Module, fn, param

EXPORTS = Module(
    name="im",
    doc="dump MESSAGEs to a FIFO (2002)",
    dialects=V08,
    functions=(
        fn("im_dump_msg_to_fifo", 0, R, doc="write From, To and body of the MESSAGE to the dump FIFO"),
    ),
    params=(
        param("dump_fifo_name", STR, None, doc="FIFO receiving the dumped messages"),
    ),
)
