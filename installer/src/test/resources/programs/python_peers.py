"""A client and a server in one process, ending their connection one way (argv[1]):
graceful: both close; halfclose: the client shuts down sending, reads the reply, closes;
reset: the client closes with SO_LINGER {1, 0}."""
import socket
import struct
import sys
import threading

mode = sys.argv[1]
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
port = listener.getsockname()[1]


def serve():
    connection, _ = listener.accept()
    try:
        while True:
            data = connection.recv(1024)
            if not data:
                break
            if mode == "halfclose":
                continue
        if mode == "halfclose":
            connection.sendall(b"reply after your FIN")
    except ConnectionResetError:
        pass
    connection.close()


server = threading.Thread(target=serve)
server.start()
client = socket.create_connection(("127.0.0.1", port))
client.settimeout(10)
client.sendall(b"request")
if mode == "halfclose":
    client.shutdown(socket.SHUT_WR)
    while client.recv(1024):
        pass
elif mode == "reset":
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
client.close()
server.join(10)
listener.close()
