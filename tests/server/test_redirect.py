"""`ser` as a redirect server (SER's third mode): sl's 302 lists the destination set as Contact,
and a real SIPp caller follows it to the callee."""

from __future__ import annotations

import pytest

from tests.ports import free_port
from tests.server.harness import Ser, Sipp, require, sipp_args

pytestmark = pytest.mark.slow


def test_a_caller_follows_the_302_to_the_callee(tmp_path):
    require("sipp")
    port, uas_port = free_port(), free_port()
    config = f"""
log_stderror=yes
debug=4
children=2
listen=udp:127.0.0.1:{port}
loadmodule "/usr/lib/ser/modules/sl.so"
route {{
    if (uri==myself) {{
        rewritehostport("127.0.0.1:{uas_port}");
        append_branch("sip:voicemail@127.0.0.1:{free_port()}", "0.1");
        sl_send_reply("302", "Moved Temporarily");
        break;
    }};
}}
"""
    with Ser(tmp_path, config) as ser:
        uas = Sipp(tmp_path, "uas", [*sipp_args("uas", "127.0.0.1", uas_port), "-m", "5"])
        try:
            uac = Sipp(tmp_path, "redirect-uac", [*sipp_args("redirect-uac", "127.0.0.1", free_port()),
                                                  f"127.0.0.1:{port}", "-s", "callee", "-m", "5",
                                                  "-timeout", "30s", "-timeout_error"])
            assert uac.wait() == 0, uac.report()
            assert uas.wait(15) == 0, uas.report()
        finally:
            uas.kill()
    # The ACK of each 302 ends at the server that sent it (sl's to-tag), not in the script.
    assert ser.log.count("absorbed the ACK to our own reply") == 5, ser.log
