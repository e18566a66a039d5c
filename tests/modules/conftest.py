"""Fixtures of the module tests that talk to a UA: its socket, and a Sender the modules reply through."""

import socket

import pytest

from ser_runtime.context import PROTO_UDP
from ser_runtime.net.resolver import Resolver
from ser_runtime.sender import Sender
from ser_runtime.settings import Listener, Settings


@pytest.fixture
def client():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    yield sock
    sock.close()


@pytest.fixture
def sender():
    listener = Listener(PROTO_UDP, "127.0.0.1", 5060, "127.0.0.1")
    public = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    public.bind(("127.0.0.1", 0))
    sender = Sender(Settings(sip_warning=False), [listener], Resolver())
    sender.attach({listener: public}, {})
    yield sender
    public.close()
