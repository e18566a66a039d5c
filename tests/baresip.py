"""Running the real baresip phone on loopback, for the end-to-end tests with real clients.

Each `Baresip` gets its own config directory (`baresip -f`): SIP, RTP and the
ctrl_tcp control socket on 127.0.0.1 only, no STUN/ICE, and no sound card:
ausine's tone is the microphone (it makes only 48 kHz stereo, which baresip
resamples for G.711) and an aubridge device nobody reads is the speaker.
With `outbound` set, every request goes to that proxy while the AOR keeps
its domain, so a phone of myserver.foobar.com talks to our `ser` on
loopback without any DNS. The control socket speaks baresip's JSON
netstrings: commands carry a token and get a response; every UA event
(REGISTER_OK, CALL_INCOMING, CALL_ESTABLISHED, CALL_CLOSED...) arrives as
it happens and `wait_for` takes the oldest one of a type. baresip's SIP
trace (-s) goes to its log, which `replies_to` reads.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from tests.ports import free_port
from tests.server.harness import require

# Below the range tests.ports hands out to servers; baresip retries another port when one is taken.
RTP_PORTS = "10000-19998"

CONFIG = """\
poll_method\tepoll
sip_listen\t127.0.0.1:{sip_port}
net_interface\t127.0.0.1
dns_server\t127.0.0.1:9
rtp_ports\t{rtp_ports}
audio_source\tausine,440
ausrc_srate\t48000
ausrc_channels\t2
audio_player\taubridge,{name}
audio_alert\taubridge,{name}
call_local_timeout\t30
module_path\t/usr/lib/baresip/modules
module\tg711.so
module\tausine.so
module\taubridge.so
module_app\tmenu.so
module_app\tctrl_tcp.so
ctrl_tcp_listen\t127.0.0.1:{ctrl_port}
"""


class Baresip:
    """One baresip phone with one account, driven through ctrl_tcp."""

    def __init__(self, directory: Path, aor: str, password: str | None = None, outbound: str | None = None,
                 answermode: str = "manual", regint: int = 600, name: str | None = None):
        self.name = name or aor.split(":", 1)[1].split("@", 1)[0]
        self.home = directory / f"baresip-{self.name}"
        self.home.mkdir(parents=True, exist_ok=True)
        self.aor = aor
        self.sip_port, self.ctrl_port = free_port(), free_port()
        (self.home / "config").write_text(CONFIG.format(
            sip_port=self.sip_port, ctrl_port=self.ctrl_port, rtp_ports=RTP_PORTS, name=self.name))
        (self.home / "contacts").write_text("")
        self.account = self._account(password, outbound, answermode, regint)
        self.log_path = self.home / "baresip.log"
        self.process: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self._events: list[dict] = []
        self._responses: dict[str, dict] = {}
        self._arrived = threading.Condition()
        self._tokens = 0
        self._log_seen: dict[str, int] = {}

    def _account(self, password, outbound, answermode, regint) -> str:
        params = [f"answermode={answermode}", f"regint={regint}"]
        if password is not None:
            params.append(f"auth_pass={password}")
        if outbound is not None:
            params.append(f'outbound="{outbound}"')
        return f"<{self.aor}>;" + ";".join(params)

    def start(self, timeout: float = 15.0) -> "Baresip":
        log = open(self.log_path, "w")
        self.process = subprocess.Popen([require("baresip"), "-f", str(self.home), "-v", "-s"],
                                        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()
        try:
            self._connect(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _connect(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._control is None:
            self._check_running()
            try:
                self._control = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"baresip {self.name} did not start in {timeout} s:\n{self.log}")
                time.sleep(0.1)
        self._control.settimeout(None)
        threading.Thread(target=self._read_control, name=f"baresip-{self.name}", daemon=True).start()
        # Added only now, so that no event (REGISTER_OK comes fast) precedes our control connection.
        self.command("uanew", self.account)

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _check_running(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"baresip {self.name} exited with {self.process.returncode}:\n{self.log}")

    def _read_control(self) -> None:
        buffer = b""
        while chunk := self._recv():
            buffer += chunk
            while (message := _netstring(buffer)) is not None:
                body, buffer = message
                self._deliver(json.loads(body))
        with self._arrived:
            self._arrived.notify_all()

    def _recv(self) -> bytes:
        try:
            return self._control.recv(65536)
        except OSError:
            return b""

    def _deliver(self, message: dict) -> None:
        with self._arrived:
            if message.get("event"):
                self._events.append(message)
            elif message.get("response"):
                self._responses[message.get("token", "")] = message
            self._arrived.notify_all()

    def command(self, name: str, params: str = "", timeout: float = 10.0) -> dict:
        """Run a baresip command (menu's long names: dial, accept, hangup...) and return its response."""
        self._tokens += 1
        token = f"{self.name}-{self._tokens}"
        body = json.dumps({"command": name, "params": params, "token": token}).encode()
        self._control.sendall(b"%d:%s," % (len(body), body))
        with self._arrived:
            if not self._arrived.wait_for(lambda: token in self._responses, timeout):
                raise AssertionError(f"baresip {self.name}: no response to {name} in {timeout} s:\n{self.log}")
            response = self._responses.pop(token)
        assert response.get("ok"), (name, response, self.log)
        return response

    def wait_for(self, event: str, timeout: float = 15.0) -> dict:
        """The first event of this type not yet waited for; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while (found := self._take(event)) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None:
                    raise AssertionError(f"baresip {self.name}: no {event} in {timeout} s; "
                                         f"events {self.event_types()}:\n{self.log}")
                self._arrived.wait(min(remaining, 0.5))
        return found

    def wait_for_log(self, text: str, timeout: float = 15.0) -> None:
        """Until `text` is in the log once more than already waited for: for what only the log reports."""
        wanted = self._log_seen.get(text, 0) + 1
        deadline = time.monotonic() + timeout
        while self.log.count(text) < wanted:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"baresip {self.name}: no {text!r} in its log in {timeout} s:\n{self.log}")
            time.sleep(0.05)
        self._log_seen[text] = wanted

    def wait_for_media(self, timeout: float = 15.0) -> None:
        """Until RTP from the other side of the next call has arrived."""
        self.wait_for_log("incoming rtp for 'audio' established", timeout)

    def _take(self, event: str) -> dict | None:
        for index, message in enumerate(self._events):
            if message.get("type") == event:
                return self._events.pop(index)
        return None

    def event_types(self) -> list[str]:
        """The types of the events not yet waited for, in order of arrival."""
        with self._arrived:
            return [message.get("type", "") for message in self._events]

    def replies_to(self, method: str) -> list[int]:
        """The status of every reply to `method` in baresip's SIP trace (-s), sent or received, in order."""
        return [int(code) for code, cseq_method in _REPLY.findall(self.log) if cseq_method == method]

    def dial(self, uri: str) -> None:
        self.command("dial", uri)

    def answer(self) -> None:
        self.command("accept")

    def hangup(self) -> None:
        self.command("hangup")

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM (baresip unregisters, then exits) and wait; SIGKILL after `timeout`. The exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._control is not None:
            self._control.close()
        return self.process.returncode

    def __enter__(self) -> "Baresip":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


_REPLY = re.compile(r"^SIP/2\.0 (\d{3}) .*?^CSeq:\s*\d+\s+(\w+)", re.M | re.S)


def _netstring(buffer: bytes) -> tuple[bytes, bytes] | None:
    """One `length:body,` off the front of `buffer` and the rest, or None while it is incomplete."""
    length, colon, rest = buffer.partition(b":")
    if not colon or len(rest) <= int(length):
        return None
    return rest[:int(length)], rest[int(length) + 1:]
