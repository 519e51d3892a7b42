"""A child process for the stdio conformance tests: relays its stdio to a loopback socket.

Usage: ``python _stdio_relay.py PORT``. It connects to 127.0.0.1:PORT and copies bytes both
ways, so the test's end of that socket plays the server of the transport under test:

- stdin -> socket; at stdin EOF it shuts down the socket's write side and keeps relaying the
  other way (a half-close, like ``send_eof``);
- socket -> stdout; at socket EOF (the test peer closed) it closes stdout and exits 0.

Bytes are copied as they come, so lines of any length (16 MiB and more) pass unchanged.
"""

from __future__ import annotations

import os
import socket
import sys
import threading

_CHUNK = 1 << 20


def _stdin_to_socket(sock: socket.socket) -> None:
    try:
        while True:
            data = os.read(0, _CHUNK)
            if not data:
                break
            sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        # The test peer went away; the other direction decides when to exit.
        pass


def main() -> None:
    port = int(sys.argv[1])
    sock = socket.create_connection(("127.0.0.1", port))
    threading.Thread(target=_stdin_to_socket, args=(sock,), daemon=True).start()
    try:
        while True:
            data = sock.recv(_CHUNK)
            if not data:
                break
            view = memoryview(data)
            while view:
                written = os.write(1, view)
                view = view[written:]
    except OSError:
        # The transport closed its end of stdout: nobody is listening any more.
        pass
    os.close(1)
    # os._exit: the stdin thread may still be blocked in read(), which must not delay exit.
    os._exit(0)


if __name__ == "__main__":
    main()
