/*
 * teardown.h - the C ABI of the Teardown control library (teardown.dll / libteardown.so).
 *
 * Rules of this interface:
 *  - Plain C, stable layout. Every struct here is shared memory or an argument buffer: fields have
 *    fixed widths, explicit padding, and little-endian byte order on every supported platform.
 *  - Objects are opaque handles made by a *_open / *_create call and released by the matching
 *    *_close / *_destroy call. Release functions accept NULL.
 *  - Every function returns a td_status (TD_OK is 0) unless it is a release or a pure query.
 *    No function throws, aborts or longjmps; C++ exceptions never cross this boundary.
 *  - Buffers are passed as pointer + capacity; the library never keeps a caller's pointer after
 *    the call returns and never frees caller memory. Strings are UTF-8 and NUL-terminated.
 *  - Handles are safe to use from one thread at a time; different handles may be used
 *    concurrently. Channels are shared between processes: many producers, many readers.
 *  - td_abi_version() reports TD_ABI_VERSION of the library that was loaded; a caller built
 *    against a different major version must not use it.
 */
#ifndef TEARDOWN_TEARDOWN_H
#define TEARDOWN_TEARDOWN_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#if defined(TEARDOWN_BUILDING_CTL)
#define TD_API __declspec(dllexport)
#else
#define TD_API __declspec(dllimport)
#endif
#elif defined(TEARDOWN_BUILDING_CTL)
#define TD_API __attribute__((visibility("default")))
#else
#define TD_API
#endif

#ifdef __cplusplus
#define TD_NOEXCEPT noexcept
extern "C" {
#else
#define TD_NOEXCEPT
#endif

/* Major version in the high 16 bits, minor in the low 16 bits. */
#define TD_ABI_VERSION 0x00010003u

/* ---- Status codes ---------------------------------------------------------------------------- */

typedef enum td_status {
  TD_OK = 0,
  TD_ERR_INVALID_ARGUMENT = 1, /* a NULL handle or pointer, or a value out of range */
  TD_ERR_NOT_FOUND = 2,        /* the channel does not exist (and was not asked to be created) */
  TD_ERR_ACCESS_DENIED = 3,    /* the OS refused to open or map a channel file */
  TD_ERR_CORRUPT = 4,          /* a channel file is truncated or its header is not Teardown's */
  TD_ERR_VERSION = 5,          /* a channel file has a layout version this library does not read */
  TD_ERR_IO = 6,               /* any other OS failure while opening, sizing or mapping */
  TD_ERR_INVALID_CONFIG = 7,   /* a configuration field is out of range; see td_config_check */
  TD_ERR_INTERNAL = 8          /* an unexpected failure inside the library */
} td_status;

/* ---- Event model (contract v1) ---------------------------------------------------------------- */

typedef enum td_event_kind {
  TD_KIND_SHUTDOWN = 1,        /* local shutdown; detail = how (TD_HOW_*) */
  TD_KIND_SEND_DISCONNECT = 2, /* local WSPSendDisconnect, with or without data */
  TD_KIND_CLOSE = 3,           /* local close; detail = mode (TD_CLOSE_*); carries the summary */
  TD_KIND_FD_CLOSE = 4,        /* FD_CLOSE reached the application; error = its error code */
  TD_KIND_EOF = 5,             /* a receive returned 0 bytes on a byte stream */
  TD_KIND_DISCON = 6,          /* a receive failed with WSAEDISCON (message-oriented) */
  TD_KIND_RESET = 7,           /* a receive or send lost the connection: WSAECONNRESET or
                                  WSAECONNABORTED (reset, aborted), WSAETIMEDOUT or WSAENETRESET
                                  (this side's stack gave up on it) */
  TD_KIND_RECV_DISCONNECT = 8, /* local WSPRecvDisconnect, with the data received */
  TD_KIND_CONNECT_FAILED = 9,  /* a connect made no connection; error = why (WSAECONNREFUSED,
                                  WSAETIMEDOUT, WSAENETUNREACH, WSAEHOSTUNREACH, ...), remote = the
                                  address tried, lifetime_ns = how long the attempt took */
  TD_KIND_CONNECTED = 10       /* a connection was made (a connect succeeded, accept returned it):
                                  what lets a reader know of a connection before it ends, and of
                                  one whose process ends without closing it. Not in the default
                                  kinds: it is an event more for every connection */
} td_event_kind;

#define TD_KIND_MAX 10
#define TD_KIND_SLOTS 16 /* counters are indexed by kind; room for later kinds */
#define TD_ALL_KINDS 0x7FEu /* bit (1 << kind) for every kind above */
#define TD_DEFAULT_KINDS 0x3FEu /* every kind but CONNECTED */

typedef enum td_shutdown_how { TD_HOW_RECEIVE = 0, TD_HOW_SEND = 1, TD_HOW_BOTH = 2 } td_shutdown_how;

typedef enum td_close_mode {
  TD_CLOSE_GRACEFUL = 1,        /* SO_DONTLINGER (the default): returns at once, FIN */
  TD_CLOSE_GRACEFUL_LINGER = 2, /* SO_LINGER {1, t>0}: waits up to linger_seconds, FIN */
  TD_CLOSE_ABORTIVE = 3         /* SO_LINGER {1, 0}: hard close, reset */
} td_close_mode;

typedef enum td_initiator {
  TD_INITIATOR_NONE = 0,   /* nobody shut down before the close */
  TD_INITIATOR_LOCAL = 1,  /* this side initiated the teardown */
  TD_INITIATOR_REMOTE = 2  /* the peer initiated the teardown */
} td_initiator;

typedef enum td_ending {
  TD_ENDING_NONE = 0,
  TD_ENDING_GRACEFUL = 1,
  TD_ENDING_ABORTIVE = 2
} td_ending;

/* The kernel's TCP state of the connection, read by the layer just before a close (Linux TCP_INFO,
 * Windows SIO_TCP_INFO): RFC 793's states, numbered as Linux numbers them. It tells what the
 * program's calls may not have: a peer's FIN or reset that arrived unread. */
typedef enum td_tcp_state {
  TD_TCP_UNKNOWN = 0, /* not read: not a connected stream, or the system could not tell */
  TD_TCP_ESTABLISHED = 1,
  TD_TCP_SYN_SENT = 2,
  TD_TCP_SYN_RECEIVED = 3,
  TD_TCP_FIN_WAIT_1 = 4,
  TD_TCP_FIN_WAIT_2 = 5,
  TD_TCP_TIME_WAIT = 6,
  TD_TCP_CLOSED = 7,
  TD_TCP_CLOSE_WAIT = 8,
  TD_TCP_LAST_ACK = 9,
  TD_TCP_LISTEN = 10,
  TD_TCP_CLOSING = 11
} td_tcp_state;

#define TD_TCP_STATE_MAX 11

/* td_event_record.flags */
#define TD_FLAG_CONVERTED 0x0001u   /* an abortive close was performed gracefully by policy */
#define TD_FLAG_NONBLOCKING 0x0002u /* the socket was non-blocking when the call was made */
#define TD_FLAG_UNREAD_DATA 0x0004u /* closed with received data unread: the stack resets */
#define TD_FLAG_SHARED 0x0008u      /* other handles (dup, fork) may keep the connection open */
#define TD_FLAG_AT_EXIT 0x0010u     /* closed by the process's exit, not by a call */
#define TD_FLAG_FRAMING 0x0020u     /* disconnect-data emulation: the peer's stream is not framed as
                                       agreed; the layer aborted the connection (a RESET event,
                                       detail = td_framing_error) */
/* Windows: closed by the program's last WSACleanup, which closes every socket still open */
#define TD_FLAG_CLEANUP 0x0040u
#define TD_FLAG_KERNEL_VIEW 0x0080u /* td_event_record.kernel holds the kernel's view */
#define TD_FLAG_ACCEPTED 0x0100u    /* the socket came from accept: this end is the responder */
/* A CLOSE the layer did not see happen (a raw close system call, io_uring): recorded when the
   descriptor was next made a new socket, or at the process's exit; time_ns is when it was noticed,
   no later than that, and the kernel's state could not be read */
#define TD_FLAG_UNSEEN_CLOSE 0x0200u

/* td_event_record.detail of a RESET with TD_FLAG_FRAMING: what was wrong with the peer's stream. */
typedef enum td_framing_error {
  TD_FRAMING_NOT_FRAMED = 1,       /* emulation is on here, the peer does not frame its stream */
  TD_FRAMING_VERSION = 2,          /* the peer frames with a version this side does not speak */
  TD_FRAMING_UNKNOWN_KIND = 3,     /* a record of an unknown kind */
  TD_FRAMING_FLAGS = 4,            /* a record with flags this version does not define */
  TD_FRAMING_EMPTY_DATA = 5,       /* a data record with no data */
  TD_FRAMING_TOO_LONG = 6,         /* a record longer than its kind allows */
  TD_FRAMING_AFTER_DISCONNECT = 7, /* bytes after the disconnect record */
  TD_FRAMING_TRUNCATED = 8,        /* the stream ended inside the disconnect record */
  TD_FRAMING_UNEXPECTED = 9        /* the peer frames its stream, emulation is off here */
} td_framing_error;

typedef enum td_family { TD_FAMILY_NONE = 0, TD_FAMILY_IPV4 = 4, TD_FAMILY_IPV6 = 6 } td_family;

/* A field of td_kernel_view the system did not tell: all ones. */
#define TD_KERNEL_UNKNOWN32 0xFFFFFFFFu
#define TD_KERNEL_UNKNOWN64 0xFFFFFFFFFFFFFFFFull

/*
 * The kernel's view of a connection, read without consuming anything (Linux TCP_INFO and FIONREAD,
 * Windows SIO_TCP_INFO) at a close, and when a receive or send fails: what the program's calls do
 * not tell. Valid when the event has TD_FLAG_KERNEL_VIEW; a field the system did not tell holds
 * all ones.
 */
typedef struct td_kernel_view {
  uint64_t bytes_acked;    /* bytes this end sent that the peer acknowledged */
  uint64_t bytes_received; /* bytes the kernel received in order, read by the program or not */
  uint32_t unread_bytes;   /* received and never read: a close discards them (and resets) */
  uint32_t unsent_bytes;   /* written by the program and not yet sent */
  uint32_t rtt_us;         /* smoothed round-trip time, microseconds */
  uint16_t retransmits;    /* segments retransmitted over the connection's life (saturates) */
  uint8_t timeouts;        /* retransmission timeouts in a row, unanswered, when read (saturates) */
  uint8_t probes;          /* keepalive or zero-window probes unanswered when read (saturates) */
} td_kernel_view;          /* 32 bytes */

/* An IP endpoint, independent of the platform's sockaddr layout and AF_* numbering. */
typedef struct td_address {
  uint8_t family;     /* td_family */
  uint8_t reserved;
  uint16_t port;      /* host byte order */
  uint32_t scope_id;  /* IPv6 scope, else 0 */
  uint8_t bytes[16];  /* network byte order; IPv4 uses the first 4 */
} td_address;         /* 24 bytes */

#define TD_PROCESS_NAME_MAX 64
#define TD_CAPTURE_MAX 256

/*
 * One teardown event. Error codes are Winsock numbers (WSAECONNRESET = 10054, ...) on every
 * platform, so that events from Windows and Linux read the same; an OS error with no Winsock
 * equivalent is recorded as its negated errno.
 */
typedef struct td_event_record {
  uint64_t sequence;        /* position in its ring's lane (see td_ring_position), unique in the
                               ring: the k-th event of lane l of L is k * L + l */
  uint64_t time_ns;         /* wall clock, ns since 1970-01-01 UTC: when a local call began, or
                               when an indication was seen. Order causality by time, not sequence:
                               sequence is publication order, and a call is published once it
                               returns, possibly after the peer has already reacted to it. */
  uint64_t socket_id;       /* the handle or descriptor the application sees */
  uint32_t pid;
  uint16_t kind;            /* td_event_kind */
  uint16_t flags;           /* TD_FLAG_* */
  int32_t error;            /* Winsock error of the call or indication, 0 if none */
  uint16_t protocol;        /* IP protocol number: 6 TCP, 17 UDP */
  uint8_t socket_type;      /* 1 stream, 2 datagram, 5 sequenced packets */
  uint8_t detail;           /* SHUTDOWN: td_shutdown_how; CLOSE: td_close_mode; RESET with
                               TD_FLAG_FRAMING: td_framing_error; else 0 */
  uint16_t linger_seconds;  /* CLOSE with TD_CLOSE_GRACEFUL_LINGER: the linger timeout */
  uint16_t captured_length; /* bytes of data held in captured[] */
  uint32_t data_length;     /* bytes of disconnect data sent or received by the call */
  td_address local;
  td_address remote;
  /* Connection summary, filled on CLOSE events (zero elsewhere). */
  uint64_t lifetime_ns;     /* from socket creation (or accept) to close */
  uint64_t bytes_sent;
  uint64_t bytes_received;
  uint8_t first_shutdown;   /* td_initiator */
  uint8_t ending;           /* td_ending */
  uint8_t kernel_state;     /* td_tcp_state just before the close; first_shutdown and ending
                               take it into account (a FIN or reset the program never read) */
  uint8_t os_error;         /* the error as the program saw it where the platform's own numbers
                               differ from Winsock's (Linux: the errno, EPIPE = 32); else 0 */
  uint32_t user; /* set by readers: who owns the ring the event was read from, as an
                    index for td_reader_user; what a producer writes here is ignored */
  char process_name[TD_PROCESS_NAME_MAX]; /* executable base name, UTF-8, NUL-padded */
  td_kernel_view kernel;                  /* with TD_FLAG_KERNEL_VIEW; zero elsewhere */
  uint8_t captured[TD_CAPTURE_MAX];       /* the first captured_length bytes of the data */
} td_event_record;                        /* 480 bytes */

/* ---- Configuration ---------------------------------------------------------------------------- */

#define TD_FILTER_MAX 16

typedef struct td_port_range {
  uint16_t first; /* inclusive, 1..65535 */
  uint16_t last;  /* inclusive, first..65535 */
} td_port_range;

typedef struct td_config {
  uint32_t enabled;              /* 0 or 1: when 0 producers record nothing */
  uint32_t kinds;                /* bit (1 << kind) per recorded kind; subset of TD_ALL_KINDS */
  uint32_t capture_bytes;        /* disconnect data captured per event, 0..TD_CAPTURE_MAX */
  uint32_t abortive_to_graceful; /* 0 or 1: perform SO_LINGER {1,0} closes gracefully */
  uint32_t process_count;        /* 0 = every process; else only these names */
  uint32_t port_count;           /* 0 = every port; else local or remote port in a range */
  uint32_t emulation_port_count; /* ports on which TCP disconnect data is emulated */
  uint32_t reserved;
  char processes[TD_FILTER_MAX][TD_PROCESS_NAME_MAX]; /* names, NUL-terminated, case-insensitive */
  td_port_range ports[TD_FILTER_MAX];
  uint16_t emulation_ports[TD_FILTER_MAX];
} td_config; /* 1152 bytes */

/* ---- Counters --------------------------------------------------------------------------------- */

typedef struct td_counters {
  uint64_t produced;                  /* events given a sequence number, all producers */
  uint64_t dropped;                   /* events a producer could not complete (ring lapped it) */
  uint64_t per_kind[TD_KIND_SLOTS];   /* events published, by kind */
} td_counters;

/* ---- Library ---------------------------------------------------------------------------------- */

TD_API uint32_t td_abi_version(void) TD_NOEXCEPT;

/* A static English text for a status; never NULL. */
TD_API const char* td_status_text(int status) TD_NOEXCEPT;

/*
 * Layout of the shared structs as this library was compiled, so that bindings can check theirs.
 * type is a struct name without "td_" ("event_record", "kernel_view", "config", "counters", "address",
 * "port_range", "ring_position"); field NULL asks for the whole struct. Unknown names give
 * TD_ERR_NOT_FOUND.
 */
TD_API int td_layout(const char* type, const char* field, uint32_t* offset, uint32_t* size) TD_NOEXCEPT;

/* ---- Channel ---------------------------------------------------------------------------------- */

typedef struct td_channel td_channel;

#define TD_OPEN_CREATE 0x1u /* create the channel if absent, or replace a corrupt one */

/*
 * Opens the channel in directory `path` (UTF-8), or in the default location when path is NULL or
 * empty: $TEARDOWN_CHANNEL, else the system channel (/dev/shm/teardown on Linux when an
 * administrator made it, %ProgramData%\Teardown on Windows), else the user's private channel
 * ($XDG_RUNTIME_DIR/teardown). With TD_OPEN_CREATE the directory, its rings directory and the
 * configuration are made where absent: an administrator's channel takes every user's rings, anyone
 * else's only their own. slot_count (a power of two, 64..1048576, or 0 for the default 16384) is
 * the size of the rings producers make, set when the configuration is created. A ring of 8192
 * slots or more is divided into a lane per CPU (up to 4, each of 4096 or more; see
 * td_ring_position), and one thread's events are held up to its lane's share.
 */
TD_API int td_channel_open(const char* path, uint32_t flags, uint32_t slot_count,
                           td_channel** out) TD_NOEXCEPT;
TD_API void td_channel_close(td_channel* channel) TD_NOEXCEPT;

/* The directory the channel lives in; buffer receives a NUL-terminated UTF-8 path. */
TD_API int td_channel_path(const td_channel* channel, char* buffer, size_t capacity) TD_NOEXCEPT;

/* Slots in each user's event ring: the most events a reader can fall behind on one ring
 * without loss (on one lane: its share, for one thread's events). */
TD_API int td_channel_capacity(const td_channel* channel, uint32_t* slot_count) TD_NOEXCEPT;

/* Slots in one lane of a ring a producer on this machine makes (a lane per CPU, up to 4, none
 * under 4096; one lane in a smaller ring): the most of one thread's events a ring holds while
 * no reader reads. */
TD_API int td_channel_lane_capacity(const td_channel* channel, uint32_t* slot_count) TD_NOEXCEPT;

TD_API int td_channel_counters(const td_channel* channel, td_counters* out) TD_NOEXCEPT;

/*
 * Publishes one event as a producer would (for tools that produce events themselves, and tests),
 * into the calling user's ring, made if absent. The channel assigns sequence; every other field is
 * taken as given. Returns TD_OK when the event was published, TD_ERR_CORRUPT when the ring's header
 * is no longer valid.
 */
TD_API int td_channel_publish(td_channel* channel, const td_event_record* event) TD_NOEXCEPT;

/* td_channel_config_owner flags */
#define TD_CONFIG_PRESENT 0x1u      /* the channel has a configuration file */
#define TD_CONFIG_SOUND 0x2u        /* holding a configuration of this version */
#define TD_CONFIG_ADMIN_OWNED 0x4u  /* owned by root / Administrators / SYSTEM */
#define TD_CONFIG_OTHERS_WRITE 0x8u /* others than its owner (and administrators) may write it */
#define TD_CONFIG_MINE 0x10u        /* owned by the calling user */

/*
 * Who owns the configuration, which decides whose programs honour it: a producer honours a
 * sound configuration only if an administrator or its own user owns it and nobody else may write
 * it; everywhere else the defaults apply. owner receives the owner's name (empty when there is no
 * configuration).
 */
TD_API int td_channel_config_owner(const td_channel* channel, char* owner, size_t capacity,
                                   uint32_t* flags) TD_NOEXCEPT;

/* ---- Configuration ---------------------------------------------------------------------------- */

/* The configuration a new channel starts with: enabled, the default kinds (every kind but
 * CONNECTED), no capture, no filters. */
TD_API void td_config_default(td_config* out) TD_NOEXCEPT;

/*
 * Checks a configuration. On TD_ERR_INVALID_CONFIG, field (if not NULL) receives the name of the
 * first offending field ("kinds", "ports[2]", ...), NUL-terminated within field_capacity.
 */
TD_API int td_config_check(const td_config* config, char* field, size_t field_capacity) TD_NOEXCEPT;

/* Reads a consistent snapshot of the live configuration (never torn). */
TD_API int td_config_read(const td_channel* channel, td_config* out) TD_NOEXCEPT;

/* Checks, then replaces the live configuration; producers see it on their next call. */
TD_API int td_config_write(td_channel* channel, const td_config* config) TD_NOEXCEPT;

/* ---- Reading events --------------------------------------------------------------------------- */

typedef struct td_reader td_reader;

typedef enum td_reader_start {
  TD_START_OLDEST = 0, /* the oldest event still in the ring */
  TD_START_NEWEST = 1, /* only events published after the reader is created */
  TD_START_FIRST = 2   /* the ring's very first event: those already overwritten count as lost */
} td_reader_start;

#define TD_RING_NAME_MAX 128

/*
 * Where a reader stands in one lane of a ring: a position to read on from later
 * (td_reader_resume). A ring is divided into lanes, each thread publishing into one; the k-th
 * event of lane l of L has the sequence k * L + l, so a position's next_sequence names its lane,
 * and a reader has one position per lane of each ring it reads.
 */
typedef struct td_ring_position {
  char ring[TD_RING_NAME_MAX]; /* the ring's file name in the channel's rings directory */
  uint64_t generation;         /* the ring's generation: a ring made again in place starts over */
  uint64_t next_sequence;      /* the lane's first event not yet delivered */
} td_ring_position;            /* 144 bytes */

/*
 * A reader reads every user's ring the caller may read (administrators: all of them), merged by
 * time; rings made after it starts are found within a second. It has its own position; readers
 * never affect producers or each other.
 * stall_timeout_ms: how long a slot whose producer has not finished writing may hold the reader
 * back before it is counted as lost (a producer killed mid-write); 0 selects 100 ms.
 */
TD_API int td_reader_create(td_channel* channel, int start, uint32_t stall_timeout_ms,
                            td_reader** out) TD_NOEXCEPT;
TD_API void td_reader_destroy(td_reader* reader) TD_NOEXCEPT;

/*
 * A reader that reads on from positions a reader saved (td_reader_positions), for a consumer that
 * stops and starts again without losing or repeating events: each lane of each ring named there,
 * if it is still the same ring (same generation), is read from its position's next_sequence, and
 * events of it overwritten since count as lost at the first read; a ring made again in place is
 * read from its first event.
 * Every other ring starts where `start` says (TD_START_FIRST: rings made while the consumer was
 * away are read whole). count may be 0.
 */
TD_API int td_reader_resume(td_channel* channel, const td_ring_position* positions, size_t count,
                            int start, uint32_t stall_timeout_ms, td_reader** out) TD_NOEXCEPT;

/*
 * Where the reader stands in each lane of each ring it reads, after the events delivered so far.
 * *count receives the number of positions; TD_ERR_INVALID_ARGUMENT (with *count set) when
 * capacity is smaller.
 */
TD_API int td_reader_positions(const td_reader* reader, td_ring_position* positions,
                               size_t capacity, size_t* count) TD_NOEXCEPT;

/*
 * Copies up to capacity events, oldest first, into events. *count receives how many; *lost the
 * number of events that went by since the previous read without being delivered (overwritten
 * before this reader got to them, torn, damaged, or abandoned by a producer; saturating). Each
 * event's user field is set to its ring's owner. Never blocks. Rings are read by copying them:
 * a ring its owner damages, truncates or replaces loses events, and is read again once sound.
 */
TD_API int td_reader_read(td_reader* reader, td_event_record* events, size_t capacity,
                          size_t* count, uint64_t* lost) TD_NOEXCEPT;

/* The name of the user an event's user field stands for ("alice", "NT AUTHORITY\SYSTEM"). */
TD_API int td_reader_user(const td_reader* reader, uint32_t user, char* name,
                          size_t capacity) TD_NOEXCEPT;

/*
 * Of the events td_reader_read has counted lost so far, how many were in rings of the user `user`
 * stands for (as in an event's user field; saturating): a loss is that user's rings', never
 * another's. TD_ERR_NOT_FOUND past the users the reader knows.
 */
TD_API int td_reader_user_lost(const td_reader* reader, uint32_t user, uint64_t* lost) TD_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif /* TEARDOWN_TEARDOWN_H */
