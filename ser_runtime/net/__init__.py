"""The SIP runtime's network side: sockets, stream connections, name resolution."""
