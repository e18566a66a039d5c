"""timer: script routes run by timers (SER 2.0 modules/timer).

`declare_timer` ("NAME,interval_ms,slow|fast,enable") runs route[NAME]
periodically with a dummy message; `timer_enable` switches it.
"""

from stdlib_modules.exports import B, F, O, R, S, STR, V20, Module, fn, param

EXPORTS = Module(
    name="timer",
    doc="timer routes",
    dialects=V20,
    functions=(
        fn("timer_enable", 2, R | O | F | B | S, doc="enable/disable a declared timer: name, 0/1"),
    ),
    params=(
        param("declare_timer", STR, None, repeatable=True, doc="NAME,interval_ms,slow|fast[,enable]"),
    ),
)
