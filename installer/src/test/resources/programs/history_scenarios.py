"""Connections that end in each way `teardown why` names, for the recorder's tests.

Usage: history_scenarios.py MODE PORT
Both ends run in this process (and, for `exit`, a child), so both are recorded when it runs
under the layer; `peerreset`, `peerclosed-unread`, `peerreset-unread` and `peerclosed-write` talk
to a peer at PORT that is not (the `-unread` ones close without ever reading how the peer ended
it; `-write` writes on after the peer closed); `refused` connects to PORT with nothing listening;
`killed` kills its client (a child) with SIGKILL while connected. The `-alone` modes are the
client's side of `graceful`, `halfclose`, `lingerzero`, `unread` (the peer greets, the client never
reads it), `exit` and `killed`, against a peer at PORT that is not under the layer. Prints nothing; exits 0 once
the connection has ended as MODE says.
"""
import ctypes
import os
import select
import socket
import struct
import subprocess
import sys
import time

mode, port = sys.argv[1], int(sys.argv[2])


def pair():
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen()
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    server.close()
    for s in (client, accepted):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return client, accepted


def expect_reset(s):
    try:
        s.recv(100)
    except ConnectionResetError:
        return
    raise SystemExit(mode + ": no reset")


def wait_for_state(s, state):
    """Waits (2 s at most) until the kernel has s in TCP state `state` (Linux's numbers)."""
    for _ in range(400):
        if s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] == state:
            return
        time.sleep(0.005)
    raise SystemExit(mode + ": the connection never reached TCP state " + str(state))


TCP_CLOSE, TCP_CLOSE_WAIT = 7, 8


def client_child(how):
    """A child that connects to PORT, sends "bye" and then exits (`exit...`) or waits (to be killed)."""
    return subprocess.Popen([sys.executable, "-c",
        "import os, socket, sys, time\n"
        "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
        "s.sendall(b'bye')\n"
        "os._exit(0) if sys.argv[2] == 'exit' else time.sleep(60)\n", str(port), how.split("-")[0]])


def end_child(child, how):
    """Waits for a child of client_child to exit, or kills it (SIGKILL) once it has sent."""
    if how.startswith("killed"):
        time.sleep(0.3)  # connected, its bytes sent
        os.kill(child.pid, 9)  # the system closes its socket: a FIN
        assert child.wait(30) == -9
    else:
        assert child.wait(30) == 0


def drain(s):
    while s.recv(100):
        pass


if mode == "graceful":
    client, server = pair()
    client.sendall(b"hello")
    assert server.recv(100) == b"hello"
    client.close()
    drain(server)
    server.close()
elif mode == "halfclose":
    client, server = pair()
    client.shutdown(socket.SHUT_WR)
    drain(server)
    server.sendall(b"bye")
    server.close()
    drain(client)
    client.close()
elif mode == "lingerzero":
    client, server = pair()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()
    time.sleep(0.1)
    expect_reset(server)
    server.close()
elif mode == "unread":
    client, server = pair()
    client.sendall(b"never read")
    time.sleep(0.1)
    server.close()  # with the bytes unread: the stack resets
    time.sleep(0.1)
    expect_reset(client)
    client.close()
elif mode in ("exit", "killed"):
    # A child connects and, with its connection open, exits (its exit closes the connection) or
    # is killed (the system closes it).
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen()
    child = client_child(mode)
    accepted, _ = server.accept()
    server.close()
    assert accepted.recv(3) == b"bye"
    end_child(child, mode)
    drain(accepted)
    accepted.close()
elif mode == "peerreset":
    # The peer (not under the layer) resets; only this reader is recorded.
    client = socket.create_connection(("127.0.0.1", port))
    client.sendall(b"reset me")
    expect_reset(client)
    client.close()
elif mode == "peerclosed-unread":
    # The peer closes; this end closes later without reading it: only the kernel knows.
    client = socket.create_connection(("127.0.0.1", port))
    client.sendall(b"close me")
    wait_for_state(client, TCP_CLOSE_WAIT)
    client.close()
elif mode == "peerreset-unread":
    client = socket.create_connection(("127.0.0.1", port))
    client.sendall(b"reset me")
    wait_for_state(client, TCP_CLOSE)
    client.close()
elif mode == "graceful-alone":
    client = socket.create_connection(("127.0.0.1", port))
    client.sendall(b"hello")
    client.close()
elif mode == "halfclose-alone":
    client = socket.create_connection(("127.0.0.1", port))
    client.sendall(b"hello")
    client.shutdown(socket.SHUT_WR)
    drain(client)
    client.close()
elif mode == "lingerzero-alone":
    client = socket.create_connection(("127.0.0.1", port))
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()
elif mode == "unread-alone":
    client = socket.create_connection(("127.0.0.1", port))
    readable, _, _ = select.select([client], [], [], 5)  # the peer's greeting, never read
    assert readable, mode + ": no greeting"
    client.close()
elif mode in ("exit-alone", "killed-alone"):
    end_child(client_child(mode), mode)
elif mode == "refused":
    try:
        socket.create_connection(("127.0.0.1", port))
    except ConnectionRefusedError:
        pass
    else:
        raise SystemExit(mode + ": the connect was not refused")
elif mode in ("writeafterclose", "peerclosed-write"):
    if mode == "writeafterclose":
        client, server = pair()
        server.close()
    else:
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(b"close me")
    wait_for_state(client, TCP_CLOSE_WAIT)
    client.sendall(b"12345")  # the closed end's kernel answers with a reset
    wait_for_state(client, TCP_CLOSE)
    try:
        client.sendall(b"12345")
    except BrokenPipeError:
        pass
    else:
        raise SystemExit(mode + ": no EPIPE")
    client.close()
elif mode == "disconnect":
    # The seed's exchange: the client concludes with its total, the server answers with its own.
    layer = ctypes.CDLL(None)
    layer.teardown_send_disconnect.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
    layer.teardown_recv_disconnect.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
    layer.teardown_recv_disconnect.restype = ctypes.c_ssize_t
    client, server = pair()
    buffer = ctypes.create_string_buffer(64)
    assert layer.teardown_send_disconnect(client.fileno(), b"42", 2) == 0, "send-disconnect (1)"
    drain(server)                                                          # (2)
    assert layer.teardown_recv_disconnect(server.fileno(), buffer, 64) == 2  # (3)
    assert layer.teardown_send_disconnect(server.fileno(), b"1042", 4) == 0  # (5)
    server.close()                                                         # (5')
    drain(client)                                                          # (6)
    assert layer.teardown_recv_disconnect(client.fileno(), buffer, 64) == 4  # (7)
    client.close()
else:
    raise SystemExit("unknown mode " + mode)
