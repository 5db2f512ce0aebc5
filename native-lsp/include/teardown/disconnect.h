/*
 * disconnect.h - disconnect data for programs that run under Teardown's Linux layer
 * (libteardown_preload.so), the counterparts of WSASendDisconnect and WSARecvDisconnect.
 *
 * Both calls record their event (SEND_DISCONNECT, RECV_DISCONNECT) and keep Winsock's rules:
 *  - teardown_send_disconnect disables sending and initiates a graceful shutdown, like
 *    shutdown(fd, SHUT_WR); with data on a connection that cannot carry disconnect data it fails
 *    with ENOPROTOOPT and does nothing (WSAENOPROTOOPT).
 *  - teardown_recv_disconnect disables receiving, like shutdown(fd, SHUT_RD), and returns the
 *    number of disconnect bytes received (0 if none); asking for data on a connection that
 *    cannot carry it fails with ENOPROTOOPT.
 *  - Neither blocks, whatever SO_LINGER says. Both return -1 and set errno on failure.
 *
 * Declare them weak to run with and without the layer (the symbols are then NULL without it).
 */
#ifndef TEARDOWN_DISCONNECT_H
#define TEARDOWN_DISCONNECT_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

int teardown_send_disconnect(int fd, const void* data, size_t length);
ssize_t teardown_recv_disconnect(int fd, void* buffer, size_t capacity);

#ifdef __cplusplus
}
#endif

#endif /* TEARDOWN_DISCONNECT_H */
