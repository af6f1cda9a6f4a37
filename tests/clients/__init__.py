"""clients: the protocol code the Python test clients share.

One module per protocol, each pure (bytes in, bytes or values out, no
sockets), so that selftest.py drives every edge case with scripted bytes:

  sse     the WHATWG event stream parser (incremental)
  http1   HTTP/1.1 request heads, response heads, body decoders (chunked,
          Content-Length, close-delimited)
  ws      the RFC 6455 client handshake, frame encoder and decoder, close
          payloads
  fcgi    FastCGI records, name-value pairs and a response reader
  common  what the scripts share besides protocols: reads bounded by a
          deadline, the ready file, the report on K streams

A script in tests/ finds the package by putting its own directory first on
sys.path, then `from clients import sse`.  Standard library only (Debian
12's /usr/bin/python3, 3.11).
"""
