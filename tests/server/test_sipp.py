"""The real `ser` forwarding real SIPp traffic statelessly, over UDP, TCP and TLS, IPv4 and IPv6.

Each test starts SIPp as the UAS, one or two `ser` processes as stateless
proxies, and SIPp as the UAC; it passes when SIPp counts every call as
successful (the replies came back through the proxies by their Vias).
"""

from __future__ import annotations

import subprocess

import pytest

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
