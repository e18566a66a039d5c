"""A real `ser` with the control interface on, for the control tests."""

from __future__ import annotations

from pathlib import Path

from tests.control.fifo_client import Fifo, JsonRpc
from tests.ports import free_port
from tests.server.harness import Ser, proxy_config

HOST = "127.0.0.1"


def registrar_config(port: int, fifo: Path, fifo_dir: Path, extra: str = "") -> str:
    """save() for REGISTER, lookup() and t_relay for the rest, 404 for the unknown."""
    routing = """if (method=="REGISTER") {
        save("location");
        break;
    };
    if (!lookup("location")) {
        sl_send_reply("404", "Not Found");
        break;
    };
    t_relay();"""
    modules = (f'fifo="{fifo}"\nfifo_dir="{fifo_dir}/"\n'
               'loadmodule "/usr/lib/ser/modules/usrloc.so"\nloadmodule "/usr/lib/ser/modules/registrar.so"\n'
               'loadmodule "/usr/lib/ser/modules/tm.so"\n' + extra)
    return proxy_config(HOST, port, routing, protos=("udp",), extra=modules)


class ControlledSer:
    """`ser` plus its FIFO and JSON-RPC clients; a context manager like Ser."""

    def __init__(self, tmp_path: Path, extra: str = "", name: str = "ser"):
        self.port = free_port()
        self.fifo_path = tmp_path / "ser_fifo"
        self.fifo_dir = tmp_path / "replies"
        self.fifo_dir.mkdir(exist_ok=True)
        self.ser = Ser(tmp_path, registrar_config(self.port, self.fifo_path, self.fifo_dir, extra), name=name)
        self.fifo = Fifo(self.fifo_path, self.fifo_dir)

    def jsonrpc(self) -> JsonRpc:
        return JsonRpc(Path(f"{self.fifo_path}.jsonrpc"))

    def __enter__(self) -> "ControlledSer":
        self.ser.start()
        return self

    def __exit__(self, *exc) -> None:
        self.ser.__exit__(*exc)
