#define _GNU_SOURCE 1
// The descriptor holder: a tiny process that keeps a FUSE connection's /dev/fuse descriptors (and
// the session state memfd) open while no daemon serves them, so the kernel queues requests instead
// of aborting the connection when the daemon exits or crashes. The next daemon connects, gets the
// descriptors back (SCM_RIGHTS) and serves the same mount; pods see a pause, not an error.
//
// It runs in its own process: the daemon execs its own executable with CAIRNFS_HOLDER_SOCKET=<fd>
// in the environment, and the constructor below turns that process into the holder before any
// Swift code runs. It only makes system calls, allocates nothing, and never reads /dev/fuse.
//
// Protocol (SOCK_SEQPACKET on an abstract Unix socket; only root or the holder's own uid may
// connect), every message starts with a uint32 command:
//   HELLO   {cmd, version, takeover_timeout_ms} -> {status}: 0 ok, 1 another daemon owns it, 2 version
//   PUT     {cmd, count, {kind, pad, id}[count]} + count descriptors -> {status}
//   DROP    {cmd, kind, id}: closes the held descriptors with that kind and id -> {status}
//   GET     {cmd} -> ITEMS {cmd, count, {kind, pad, id}[count]} + descriptors, ..., END {cmd, total}
//   EXIT    {cmd} -> {status}, then the holder closes everything and exits (clean unmount)
// Only the owner (the connection whose HELLO was accepted) may send the others. When the owner's
// connection ends without EXIT, the holder waits takeover_timeout_ms (0: forever) for the next
// daemon; then it closes every descriptor (the kernel aborts the connection: ENOTCONN) and exits.
// It also exits when the FUSE connection dies (unmounted or aborted: POLLERR on the device).
#include "cairn_sys.h"

#include <poll.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

enum {
    HOLDER_HELLO = 1, HOLDER_PUT = 2, HOLDER_DROP = 3, HOLDER_GET = 4, HOLDER_ITEMS = 5,
    HOLDER_END = 6, HOLDER_EXIT = 7,
    HOLDER_VERSION = 1,
    HOLDER_MAX_ITEMS = 8192,
    HOLDER_BATCH = 200,
    KIND_FUSE_DEVICE = 1,
};

struct holder_item { uint32_t kind; uint32_t pad; uint64_t id; };

static struct holder_item items[HOLDER_MAX_ITEMS];
static int item_fds[HOLDER_MAX_ITEMS];
static int item_count;

static int64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void close_all_and_exit(int code) {
    for (int i = 0; i < item_count; i++) close(item_fds[i]);
    _exit(code);
}

static void reply_status(int conn, uint32_t status) {
    (void)cairn_send_fds(conn, &status, sizeof status, NULL, 0);
}

static int peer_allowed(int conn) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return 0;
    return cred.uid == 0 || cred.uid == geteuid();
}

static int fuse_device_fd(void) {
    for (int i = 0; i < item_count; i++) if (items[i].kind == KIND_FUSE_DEVICE) return item_fds[i];
    return -1;
}

/// Handles one message from the owner; returns 0 to keep the connection, -1 to drop it.
static int handle_owner_message(int conn) {
    static unsigned char buf[16 + sizeof(struct holder_item) * 256];
    int fds[253];
    int nfds = 0;
    ssize_t n = cairn_recv_fds(conn, buf, sizeof buf, fds, 253, &nfds);
    if (n <= 0) {
        for (int i = 0; i < nfds; i++) close(fds[i]);
        return -1;
    }
    uint32_t cmd;
    memcpy(&cmd, buf, sizeof cmd);
    switch (cmd) {
    case HOLDER_PUT: {
        uint32_t count = 0;
        if (n >= 8) memcpy(&count, buf + 4, sizeof count);
        if ((ssize_t)(8 + count * sizeof(struct holder_item)) > n || (int)count != nfds
            || item_count + nfds > HOLDER_MAX_ITEMS) {
            for (int i = 0; i < nfds; i++) close(fds[i]);
            reply_status(conn, EINVAL);
            return 0;
        }
        for (int i = 0; i < nfds; i++) {
            memcpy(&items[item_count], buf + 8 + (size_t)i * sizeof(struct holder_item), sizeof(struct holder_item));
            item_fds[item_count] = fds[i];
            item_count++;
        }
        reply_status(conn, 0);
        return 0;
    }
    case HOLDER_DROP: {
        uint32_t kind = 0;
        uint64_t id = 0;
        if (n >= 16) { memcpy(&kind, buf + 4, 4); memcpy(&id, buf + 8, 8); }
        for (int i = 0; i < item_count;) {
            if (items[i].kind == kind && items[i].id == id) {
                close(item_fds[i]);
                item_count--;
                items[i] = items[item_count];
                item_fds[i] = item_fds[item_count];
            } else {
                i++;
            }
        }
        for (int i = 0; i < nfds; i++) close(fds[i]);
        reply_status(conn, 0);
        return 0;
    }
    case HOLDER_GET: {
        for (int i = 0; i < nfds; i++) close(fds[i]);
        static unsigned char out[8 + sizeof(struct holder_item) * HOLDER_BATCH];
        for (int start = 0; start < item_count; start += HOLDER_BATCH) {
            int count = item_count - start < HOLDER_BATCH ? item_count - start : HOLDER_BATCH;
            uint32_t header[2] = { HOLDER_ITEMS, (uint32_t)count };
            memcpy(out, header, sizeof header);
            memcpy(out + 8, &items[start], sizeof(struct holder_item) * (size_t)count);
            if (cairn_send_fds(conn, out, 8 + sizeof(struct holder_item) * (size_t)count,
                               &item_fds[start], count) < 0) return -1;
        }
        uint32_t end[2] = { HOLDER_END, (uint32_t)item_count };
        if (cairn_send_fds(conn, end, sizeof end, NULL, 0) < 0) return -1;
        return 0;
    }
    case HOLDER_EXIT:
        for (int i = 0; i < nfds; i++) close(fds[i]);
        reply_status(conn, 0);
        close_all_and_exit(0);
    default:
        for (int i = 0; i < nfds; i++) close(fds[i]);
        reply_status(conn, EINVAL);
        return 0;
    }
}

void cairn_holder_main(int sock) {
    int owner = -1;
    int64_t takeover_timeout = 0;
    // No daemon has said hello yet: one that died before it could gets no holder forever.
    int64_t deadline = now_ms() + 30000;
    for (;;) {
        struct pollfd p[3];
        int np = 0;
        p[np].fd = sock; p[np].events = POLLIN; p[np].revents = 0; np++;
        int owner_index = -1, device_index = -1;
        if (owner >= 0) { owner_index = np; p[np].fd = owner; p[np].events = POLLIN; p[np].revents = 0; np++; }
        int device = fuse_device_fd();
        if (device >= 0) { device_index = np; p[np].fd = device; p[np].events = 0; p[np].revents = 0; np++; }
        int timeout = -1;
        if (owner < 0 && deadline > 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0) close_all_and_exit(0);
            timeout = left > 1000000 ? 1000000 : (int)left;
        }
        int r = poll(p, (nfds_t)np, timeout);
        if (r < 0) {
            if (errno == EINTR) continue;
            close_all_and_exit(1);
        }
        if (device_index >= 0 && (p[device_index].revents & (POLLERR | POLLHUP | POLLNVAL))) {
            // The connection is gone (unmounted or aborted): nothing left worth holding.
            close_all_and_exit(0);
        }
        if (owner_index >= 0 && p[owner_index].revents) {
            if (handle_owner_message(owner) != 0) {
                close(owner);
                owner = -1;
                if (item_count == 0) _exit(0);
                deadline = takeover_timeout > 0 ? now_ms() + takeover_timeout : 0;
            }
        }
        if (p[0].revents & POLLIN) {
            int conn = accept4(sock, NULL, NULL, SOCK_CLOEXEC);
            if (conn < 0) continue;
            if (!peer_allowed(conn)) { close(conn); continue; }
            uint32_t hello[3] = { 0, 0, 0 };
            int nfds = 0;
            int ignored[4];
            // The daemon sends HELLO right after connecting; wait briefly for it.
            struct pollfd hp = { conn, POLLIN, 0 };
            if (poll(&hp, 1, 2000) != 1) { close(conn); continue; }
            ssize_t n = cairn_recv_fds(conn, hello, sizeof hello, ignored, 4, &nfds);
            for (int i = 0; i < nfds; i++) close(ignored[i]);
            if (n < (ssize_t)sizeof hello || hello[0] != HOLDER_HELLO) { close(conn); continue; }
            if (hello[1] != HOLDER_VERSION) { reply_status(conn, 2); close(conn); continue; }
            if (owner >= 0) { reply_status(conn, 1); close(conn); continue; }
            owner = conn;
            takeover_timeout = hello[2];
            deadline = 0;
            reply_status(conn, 0);
        }
    }
}

/// A process started with CAIRNFS_HOLDER_SOCKET=<fd> becomes the holder before main runs.
__attribute__((constructor)) static void cairn_holder_entry(void) {
    const char *value = getenv("CAIRNFS_HOLDER_SOCKET");
    if (value == NULL) return;
    int sock = atoi(value);
    if (sock < 3) _exit(2);
    // Own session: signals to the daemon's process group or terminal do not reach the holder.
    (void)setsid();
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    (void)prctl(PR_SET_NAME, "cairnfs-holder", 0, 0, 0);
    if (sock != 3) {
        if (dup2(sock, 3) < 0) _exit(2);
        close(sock);
        sock = 3;
    }
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) { dup2(null, 0); dup2(null, 1); dup2(null, 2); if (null > 3) close(null); }
    // Nothing else the daemon had open may stay open here (pipes to its parent, for one).
    (void)syscall(SYS_close_range, 4U, ~0U, 0U);
    cairn_holder_main(sock);
}
