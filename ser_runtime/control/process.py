"""The control process (SER's "fifo server" process): FIFO and JSON-RPC requests, and t_uac's SIP.

The supervisor forks it when `fifo` is set and replaces it when it dies.
It is a worker without a share of the listeners: it has its own UDP port
per UDP listener, named in the Via of the requests t_uac_dlg sends, so
their answers come back to it, and its own transaction table. One
selector loop serves the FIFO, the JSON-RPC socket and its connections,
those UDP ports and the transaction timers, so a command waiting for a
SIP answer does not hold up the next request.
"""

from __future__ import annotations

import selectors

from ser_runtime.control.commands import Control, Dispatcher
from ser_runtime.control.fifo import FifoServer
from ser_runtime.control.jsonrpc import JsonRpcServer


def serve(worker, selector: selectors.BaseSelector, udp, fifo_fd: int, fifo_dir: str, jsonrpc_sock,
          control: Control, modules) -> None:
    """Run the control process's loop until SIGTERM; `worker` handles what arrives on `udp`."""
    control.transactions = worker.transactions
    dispatcher = Dispatcher(modules)
    fifo = FifoServer(fifo_fd, fifo_dir, dispatcher, control)
    selector.register(fifo_fd, selectors.EVENT_READ, fifo.readable)
    if jsonrpc_sock is not None:
        rpc = JsonRpcServer(jsonrpc_sock, selector, dispatcher, control)
        selector.register(jsonrpc_sock, selectors.EVENT_READ, rpc.acceptable)
    worker.serve(selector, udp)
