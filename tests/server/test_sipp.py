"""The real `ser` forwarding real SIPp traffic statelessly, over UDP, TCP and TLS, IPv4 and IPv6.

Each test starts SIPp as the UAS, one or two `ser` processes as stateless
proxies, and SIPp as the UAC; it passes when SIPp counts every call as
successful (the replies came back through the proxies by their Vias).
"""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.conftest import SHARED
from tests.ports import free_port
from tests.server.harness import Ser, Sipp, hostport, proxy_config, require, sipp_args

pytestmark = pytest.mark.slow

CALLS = 10
SIPP_TRANSPORT = {"udp": "u1", "tcp": "t1"}
# The UAC sends each call from its own UDP socket, so SO_REUSEPORT spreads the calls over both
# workers, and the worker without the TCP connections has to hand its stream sends to the other.
UAC_TRANSPORT = {"udp": "un", "tcp": "t1"}
FORWARD = {"udp": "forward_udp", "tcp": "forward_tcp", "tls": "forward_tls"}
SCENARIOS = [("options-uac", "options-uas"), ("register-uac", "register-uas"), ("uac", "uas")]


def forwarding_config(host: str, port: int, next_hop: str, forward: str, extra: str = "") -> str:
    """Requests for us go to `next_hop`, the rest by their URI."""
    routing = f"""if (uri==myself) {{
        rewritehostport("{next_hop}");
    }};
    {forward}(uri:host, uri:port);"""
    return proxy_config(host, port, routing, extra=extra)


def run_calls(tmp_path, host: str, proxy_port: int, uas_port: int, uac_transport: str,
              uas_transport: str, scenarios=SCENARIOS) -> None:
    """Run each UAC/UAS scenario pair through the proxy at proxy_port; every call must succeed."""
    for uac_scenario, uas_scenario in scenarios:
        uas = Sipp(tmp_path, f"{uas_scenario}-{uas_transport}",
                   [*sipp_args(uas_scenario, host, uas_port, SIPP_TRANSPORT[uas_transport]),
                    "-m", str(CALLS)])
        try:
            uac = Sipp(tmp_path, f"{uac_scenario}-{uac_transport}",
                       [*sipp_args(uac_scenario, host, free_port(host), UAC_TRANSPORT[uac_transport]),
                        hostport(host, proxy_port), "-s", "callee", "-m", str(CALLS), "-r", "20",
                        "-timeout", "30s", "-timeout_error"])
            assert uac.wait() == 0, f"{uac_scenario} failed:\n{uac.report()}"
            assert uas.wait(15) == 0, f"{uas_scenario} failed:\n{uas.report()}"
        finally:
            uas.kill()


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
@pytest.mark.parametrize("uac_transport,uas_transport", [("udp", "udp"), ("tcp", "tcp"), ("udp", "tcp"),
                                                         ("tcp", "udp")])
def test_one_proxy_forwards_options_register_and_invite(tmp_path, host, uac_transport, uas_transport):
    require("sipp")
    port, uas_port = free_port(host), free_port(host)
    relayed = uac_transport == "udp" and uas_transport == "tcp"
    config = forwarding_config(host, port, hostport(host, uas_port), FORWARD[uas_transport],
                               extra="debug=4\n" if relayed else "")
    with Ser(tmp_path, config) as ser:
        run_calls(tmp_path, host, port, uas_port, uac_transport, uas_transport)
    assert "dropped" not in ser.log, ser.log
    if relayed:
        assert "for another worker" in ser.log, "the worker without the TCP connections sent nothing"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[str, str]:
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run([require("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return str(cert), str(key)


@pytest.mark.parametrize("host,hop", [("127.0.0.1", "udp"), ("127.0.0.1", "tcp"), ("127.0.0.1", "tls"),
                                      ("::1", "tls")])
def test_two_proxies_in_a_chain(tmp_path, certificate, host, hop):
    """SIPp -> ser A -> (udp, tcp or tls) -> ser B -> SIPp, and every reply back the same way."""
    require("sipp")
    port_a, port_a_tls, port_b, port_b_tls, uas_port = (free_port(host) for _ in range(5))
    cert, key = certificate
    tls = f'tls_certificate="{cert}"\ntls_private_key="{key}"\n'
    next_port = port_b_tls if hop == "tls" else port_b
    # SER sends TLS only from a TLS listen socket, as it does every protocol.
    config_a = forwarding_config(host, port_a, hostport(host, next_port), FORWARD[hop],
                            extra=tls + f"listen=tls:{hostport(host, port_a_tls)}\n")
    config_b = forwarding_config(host, port_b, hostport(host, uas_port), "forward_udp",
                            extra=tls + f"listen=tls:{hostport(host, port_b_tls)}\n")
    with Ser(tmp_path / "a", config_a, name="a"), Ser(tmp_path / "b", config_b, name="b") as b:
        run_calls(tmp_path, host, port_a, uas_port, "udp", "udp")
    assert f"tls:{hostport(host, port_b_tls)}" in b.log


def test_a_record_routed_call_through_a_stateless_proxy(tmp_path):
    """The shared call scenarios: ACK and BYE follow the Record-Route; loose_route takes our Route off."""
    require("sipp")
    scenarios = SHARED / "bench" / "scenarios"
    assert scenarios.is_dir(), f"the shared SIPp scenarios are missing at {scenarios}"
    port, uas_port = free_port(), free_port()
    routing = f"""if (loose_route()) {{
        forward(uri:host, uri:port);
        break;
    }};
    if (method=="INVITE") {{
        record_route();
    }};
    if (uri==myself) {{
        rewritehostport("127.0.0.1:{uas_port}");
    }};
    forward(uri:host, uri:port);"""
    config = proxy_config("127.0.0.1", port, routing).replace(
        'loadmodule "/usr/lib/ser/modules/maxfwd.so"',
        'loadmodule "/usr/lib/ser/modules/maxfwd.so"\nloadmodule "/usr/lib/ser/modules/rr.so"')
    with Ser(tmp_path, config):
        uas = Sipp(tmp_path, "call-uas", ["-sf", str(scenarios / "call-uas.xml"), "-i", "127.0.0.1",
                                          "-p", str(uas_port), "-m", str(CALLS), "-nostdin", "-trace_err",
                                          "-trace_msg"])
        try:
            uac = Sipp(tmp_path, "call-uac", ["-sf", str(scenarios / "call-uac.xml"), "-i", "127.0.0.1",
                                              "-p", str(free_port()), f"127.0.0.1:{port}", "-m", str(CALLS),
                                              "-r", "20", "-timeout", "30s", "-timeout_error", "-nostdin",
                                              "-trace_err"])
            assert uac.wait() == 0, uac.report()
            assert uas.wait(15) == 0, uas.report()
        finally:
            uas.kill()
    seen = "".join(p.read_text(errors="replace") for p in tmp_path.glob("call-uas*_messages.log"))
    assert len(re.findall(rf"^Record-Route: <sip:127\.0\.0\.1:{port};ftag=[^;>]+;lr>", seen, re.M)) >= CALLS
    assert not re.findall(r"^Route:", seen, re.M), "loose_route left our Route on an in-dialog request"
