"""`ser` as a redirect server (SER's third mode): sl's 302 lists the destination set as Contact,
and a real SIPp caller follows it to the callee."""

from __future__ import annotations

import pytest

from tests.ports import free_port
from tests.server.harness import SCENARIOS, Ser, Sipp, require, sipp_args

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("caller", ["udp", "tcp"])
def test_a_caller_follows_the_302_to_the_callee(tmp_path, caller):
    require("sipp")
    port, uas_port = free_port(), free_port()
    config = f"""
log_stderror=yes
debug=4
children=2
listen=udp:127.0.0.1:{port}
listen=tcp:127.0.0.1:{port}
loadmodule "/usr/lib/ser/modules/sl.so"
route {{
    if (uri==myself) {{
        rewriteuri("sip:callee@127.0.0.1:{uas_port}{';transport=tcp' if caller == 'tcp' else ''}");
        append_branch("sip:voicemail@127.0.0.1:{free_port()}", "0.1");
        sl_send_reply("302", "Moved Temporarily");
        break;
    }};
}}
"""
    transport = "t1" if caller == "tcp" else "u1"
    scenario = tmp_path / "redirect-uac.xml"   # its setdest names the transport the Contact gives
    scenario.write_text((SCENARIOS / "redirect-uac.xml").read_text()
                        .replace('protocol="udp"', f'protocol="{caller}"'))
    with Ser(tmp_path, config) as ser:
        uas = Sipp(tmp_path, "uas", [*sipp_args("uas", "127.0.0.1", uas_port, transport), "-m", "5", "-trace_msg"])
        try:
            # Following a Contact over TCP needs SIPp's multi-socket mode (tn).
            caller_args = sipp_args("redirect-uac", "127.0.0.1", free_port(), "tn" if caller == "tcp" else "u1")
            caller_args[1] = str(scenario)
            uac = Sipp(tmp_path, "redirect-uac", [*caller_args, f"127.0.0.1:{port}", "-s", "callee", "-m", "5",
                                                  "-timeout", "30s", "-timeout_error"])
            assert uac.wait() == 0, uac.report()
            if caller == "udp":
                assert uas.wait(15) == 0, uas.report()
            else:
                # The callee's SIPp counts a call as failed when the caller closes its connection
                # during the scenario's closing pause: what it received is the measure.
                uas.wait(15)
                seen = "".join(p.read_text(errors="replace") for p in tmp_path.glob("uas*_messages.log"))
                assert seen.count("\nBYE sip:") == 5, uas.report()
        finally:
            uas.kill()
    # The ACK of each 302 ends at the server that sent it (sl's to-tag), not in the script.
    assert ser.log.count("absorbed the ACK to our own reply") == 5, ser.log
