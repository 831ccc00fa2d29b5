#define _GNU_SOURCE 1
#include "cairn_sys.h"

#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/vfs.h>

long cairn_fs_type(int fd) {
    struct statfs st;
    if (fstatfs(fd, &st) != 0) return -errno;
    return (long)st.f_type;
}

// MARK: capabilities

struct cairn_cap_header { uint32_t version; int pid; };
struct cairn_cap_data { uint32_t effective, permitted, inheritable; };
#define CAIRN_CAP_VERSION_3 0x20080522

int cairn_thread_drop_effective_cap(int cap) {
    struct cairn_cap_header header = { CAIRN_CAP_VERSION_3, 0 };
    struct cairn_cap_data data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &header, data) != 0) return -errno;
    data[cap / 32].effective &= ~(1u << (cap % 32));
    header.version = CAIRN_CAP_VERSION_3;
    header.pid = 0;
    if (syscall(SYS_capset, &header, data) != 0) return -errno;
    return 0;
}

int cairn_thread_raise_effective_cap(int cap) {
    struct cairn_cap_header header = { CAIRN_CAP_VERSION_3, 0 };
    struct cairn_cap_data data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &header, data) != 0) return -errno;
    data[cap / 32].effective |= (1u << (cap % 32));
    header.version = CAIRN_CAP_VERSION_3;
    header.pid = 0;
    if (syscall(SYS_capset, &header, data) != 0) return -errno;
    return 0;
}

// MARK: file handles

struct cairn_file_handle {
    unsigned int handle_bytes;
    int handle_type;
    unsigned char f_handle[128];
};

int cairn_handle_of(int fd, int *type, unsigned char *bytes, unsigned int cap, int *mount_id) {
    struct cairn_file_handle fh;
    fh.handle_bytes = sizeof fh.f_handle;
    int mnt = 0;
    if (syscall(SYS_name_to_handle_at, fd, "", &fh, &mnt, CAIRN_AT_EMPTY_PATH) != 0) return -errno;
    if (fh.handle_bytes > cap) return -EOVERFLOW;
    *type = fh.handle_type;
    memcpy(bytes, fh.f_handle, fh.handle_bytes);
    if (mount_id) *mount_id = mnt;
    return (int)fh.handle_bytes;
}

int cairn_open_handle(int mount_fd, int type, const unsigned char *bytes, unsigned int size, int flags) {
    struct cairn_file_handle fh;
    if (size > sizeof fh.f_handle) { errno = EINVAL; return -1; }
    fh.handle_bytes = size;
    fh.handle_type = type;
    memcpy(fh.f_handle, bytes, size);
    return (int)syscall(SYS_open_by_handle_at, mount_fd, &fh, flags);
}

// MARK: project quotas

#define CAIRN_FS_IOC_FSGETXATTR 0x801c581fUL
#define CAIRN_FS_IOC_FSSETXATTR 0x401c5820UL
#define CAIRN_QCMD(cmd, type) (((cmd) << 8) | ((type) & 0xff))
#define CAIRN_Q_GETQUOTA 0x800007
#define CAIRN_Q_SETQUOTA 0x800008
#define CAIRN_Q_XGETQSTATV (('X' << 8) + 8)
#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif

_Static_assert(sizeof(struct cairn_fsxattr) == 28, "struct fsxattr");
_Static_assert(sizeof(struct cairn_dqblk) == 72, "struct if_dqblk");

int cairn_get_fsxattr(int fd, struct cairn_fsxattr *attr) {
    return ioctl(fd, CAIRN_FS_IOC_FSGETXATTR, attr) == 0 ? 0 : -errno;
}

int cairn_set_fsxattr(int fd, const struct cairn_fsxattr *attr) {
    return ioctl(fd, CAIRN_FS_IOC_FSSETXATTR, attr) == 0 ? 0 : -errno;
}

int cairn_project_quota_get(int fd, uint32_t id, struct cairn_dqblk *out) {
    memset(out, 0, sizeof *out);
    long r = syscall(SYS_quotactl_fd, fd, CAIRN_QCMD(CAIRN_Q_GETQUOTA, CAIRN_PRJQUOTA), id, out);
    return r == 0 ? 0 : -errno;
}

int cairn_project_quota_set(int fd, uint32_t id, const struct cairn_dqblk *in) {
    long r = syscall(SYS_quotactl_fd, fd, CAIRN_QCMD(CAIRN_Q_SETQUOTA, CAIRN_PRJQUOTA), id, in);
    return r == 0 ? 0 : -errno;
}

struct cairn_qfilestatv { uint64_t ino, nblks; uint32_t nextents, pad; };
struct cairn_quota_statv {
    int8_t version;
    uint8_t pad1;
    uint16_t flags;
    uint32_t incoredqs;
    struct cairn_qfilestatv uquota, gquota, pquota;
    int32_t btimelimit, itimelimit, rtbtimelimit;
    uint16_t bwarnlimit, iwarnlimit, rtbwarnlimit, pad3;
    uint32_t pad4;
    uint64_t pad2[7];
};

int cairn_project_quota_state(int fd) {
    struct cairn_quota_statv st;
    memset(&st, 0, sizeof st);
    st.version = 1;
    long r = syscall(SYS_quotactl_fd, fd, CAIRN_QCMD(CAIRN_Q_XGETQSTATV, CAIRN_PRJQUOTA), 0, &st);
    return r == 0 ? (int)st.flags : -errno;
}

// MARK: btrfs

#define CAIRN_BTRFS_IOC_SUBVOL_CREATE 0x5000940eUL
#define CAIRN_BTRFS_IOC_TREE_SEARCH 0xd0009411UL
#define CAIRN_BTRFS_IOC_INO_LOOKUP 0xd0009412UL
#define CAIRN_BTRFS_IOC_QGROUP_LIMIT 0x8030942bUL
#define CAIRN_BTRFS_QUOTA_TREE_OBJECTID 8
#define CAIRN_BTRFS_QGROUP_STATUS_KEY 240
#define CAIRN_BTRFS_QGROUP_INFO_KEY 242
#define CAIRN_BTRFS_QGROUP_LIMIT_MAX_RFER 1

struct cairn_btrfs_vol_args { int64_t fd; char name[4088]; };
struct cairn_btrfs_ino_lookup_args { uint64_t treeid; uint64_t objectid; char name[4080]; };
struct cairn_btrfs_qgroup_limit { uint64_t flags, max_rfer, max_excl, rsv_rfer, rsv_excl; };
struct cairn_btrfs_qgroup_limit_args { uint64_t qgroupid; struct cairn_btrfs_qgroup_limit lim; };
struct cairn_btrfs_search_key {
    uint64_t tree_id, min_objectid, max_objectid, min_offset, max_offset, min_transid, max_transid;
    uint32_t min_type, max_type, nr_items, unused;
    uint64_t unused1, unused2, unused3, unused4;
};
struct cairn_btrfs_search_header { uint64_t transid, objectid, offset; uint32_t type, len; };
struct cairn_btrfs_search_args { struct cairn_btrfs_search_key key; char buf[4096 - sizeof(struct cairn_btrfs_search_key)]; };

_Static_assert(sizeof(struct cairn_btrfs_vol_args) == 4096, "btrfs_ioctl_vol_args");
_Static_assert(sizeof(struct cairn_btrfs_ino_lookup_args) == 4096, "btrfs_ioctl_ino_lookup_args");
_Static_assert(sizeof(struct cairn_btrfs_qgroup_limit_args) == 48, "btrfs_ioctl_qgroup_limit_args");
_Static_assert(sizeof(struct cairn_btrfs_search_key) == 104, "btrfs_ioctl_search_key");
_Static_assert(sizeof(struct cairn_btrfs_search_args) == 4096, "btrfs_ioctl_search_args");

int cairn_btrfs_subvolume_create(int dirfd, const char *name) {
    struct cairn_btrfs_vol_args args;
    memset(&args, 0, sizeof args);
    size_t n = strlen(name);
    if (n >= sizeof args.name) return -ENAMETOOLONG;
    memcpy(args.name, name, n);
    return ioctl(dirfd, CAIRN_BTRFS_IOC_SUBVOL_CREATE, &args) == 0 ? 0 : -errno;
}

int cairn_set_nocow(int fd) {
    long flags = 0;
    if (ioctl(fd, 0x80086601UL /* FS_IOC_GETFLAGS */, &flags) != 0) return -errno;
    flags |= 0x00800000L; /* FS_NOCOW_FL */
    return ioctl(fd, 0x40086602UL /* FS_IOC_SETFLAGS */, &flags) == 0 ? 0 : -errno;
}

int cairn_btrfs_subvolume_id(int fd, uint64_t *id) {
    struct cairn_btrfs_ino_lookup_args args;
    memset(&args, 0, sizeof args);
    args.objectid = CAIRN_BTRFS_FIRST_FREE_OBJECTID;
    if (ioctl(fd, CAIRN_BTRFS_IOC_INO_LOOKUP, &args) != 0) return -errno;
    *id = args.treeid;
    return 0;
}

/// One item of the quota tree: (objectid 0, type, offset). Returns the item's length (copied into
/// `out`, at most `cap` bytes), 0 if there is no such item, or -errno (ENOENT: no quota tree).
static int quota_item(int fd, uint32_t type, uint64_t offset, void *out, size_t cap) {
    struct cairn_btrfs_search_args args;
    memset(&args, 0, sizeof args);
    args.key.tree_id = CAIRN_BTRFS_QUOTA_TREE_OBJECTID;
    args.key.min_objectid = 0;
    args.key.max_objectid = 0;
    args.key.min_type = type;
    args.key.max_type = type;
    args.key.min_offset = offset;
    args.key.max_offset = offset;
    args.key.max_transid = UINT64_MAX;
    args.key.nr_items = 1;
    if (ioctl(fd, CAIRN_BTRFS_IOC_TREE_SEARCH, &args) != 0) return -errno;
    if (args.key.nr_items < 1) return 0;
    struct cairn_btrfs_search_header header;
    memcpy(&header, args.buf, sizeof header);
    if (header.type != type || header.offset != offset) return 0;
    size_t len = header.len < cap ? header.len : cap;
    memcpy(out, args.buf + sizeof header, len);
    return (int)len;
}

int cairn_btrfs_quota_enabled(int fd) {
    uint64_t status[4];  // version, generation, flags, rescan
    memset(status, 0, sizeof status);
    int r = quota_item(fd, CAIRN_BTRFS_QGROUP_STATUS_KEY, 0, status, sizeof status);
    if (r == -ENOENT) return 0;
    if (r < 0) return r;
    if (r < 24) return 0;
    return (status[2] & 1) ? 1 : 0;  // BTRFS_QGROUP_STATUS_FLAG_ON
}

int cairn_btrfs_qgroup_limit(int fd, uint64_t max_referenced) {
    struct cairn_btrfs_qgroup_limit_args args;
    memset(&args, 0, sizeof args);
    args.qgroupid = 0;  // the subvolume of fd
    args.lim.flags = CAIRN_BTRFS_QGROUP_LIMIT_MAX_RFER;
    args.lim.max_rfer = max_referenced;
    return ioctl(fd, CAIRN_BTRFS_IOC_QGROUP_LIMIT, &args) == 0 ? 0 : -errno;
}

int cairn_btrfs_qgroup_referenced(int fd, uint64_t id, uint64_t *referenced) {
    uint64_t info[5];  // generation, rfer, rfer_cmpr, excl, excl_cmpr
    memset(info, 0, sizeof info);
    int r = quota_item(fd, CAIRN_BTRFS_QGROUP_INFO_KEY, id, info, sizeof info);
    if (r < 0) return r;
    if (r < 16) return -ENOENT;
    *referenced = info[1];
    return 0;
}

// MARK: descriptors over Unix sockets

ssize_t cairn_send_fds(int sock, const void *data, size_t len, const int *fds, int nfds) {
    if (nfds < 0 || nfds > 250) return -EINVAL;
    struct iovec iov = { (void *)data, len };
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int) * 250)]; } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (nfds > 0) {
        memset(&control, 0, sizeof control);
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    ssize_t r;
    do { r = sendmsg(sock, &msg, MSG_NOSIGNAL); } while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

ssize_t cairn_recv_fds(int sock, void *data, size_t len, int *fds, int maxfds, int *nfds) {
    struct iovec iov = { data, len };
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int) * 253)]; } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    *nfds = 0;
    ssize_t r;
    do { r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); } while (r < 0 && errno == EINTR);
    if (r < 0) return -errno;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int *received = (int *)CMSG_DATA(c);
        for (int i = 0; i < count; i++) {
            if (*nfds < maxfds) fds[(*nfds)++] = received[i];
            else close(received[i]);  // more than asked for: never leak them
        }
    }
    return r;
}
