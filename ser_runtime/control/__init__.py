"""The control interface of `ser`: SER's FIFO server and a JSON-RPC 2.0 socket beside it.

`fifo.py` speaks SER 0.8/0.9's FIFO protocol (fifo_server.c), `jsonrpc.py`
the same commands as JSON-RPC 2.0 on a Unix stream socket, `commands.py`
holds the core commands and the dispatch table the modules' commands join
(exports.Command), `process.py` is the control process the supervisor
forks, and `stats.py` the counters every process shares.
"""
