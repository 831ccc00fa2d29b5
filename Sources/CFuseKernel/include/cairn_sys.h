#ifndef CAIRN_SYS_H
#define CAIRN_SYS_H
// What Swift cannot call directly: Linux calls glibc declares only under _GNU_SOURCE (which the
// Swift Glibc module is not built with; defining it here breaks the module), variadic ioctl,
// CMSG macros, C thread-locals, and structures from headers that clash with sys/mount.h.
// No filesystem logic lives here.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <linux/fiemap.h>

enum {
    CAIRN_RENAME_NOREPLACE = 1, CAIRN_RENAME_EXCHANGE = 2, CAIRN_RENAME_WHITEOUT = 4,
    CAIRN_SEEK_DATA = 3, CAIRN_SEEK_HOLE = 4,
    CAIRN_FALLOC_FL_KEEP_SIZE = 1, CAIRN_FALLOC_FL_PUNCH_HOLE = 2,
    CAIRN_CLONE_FS = 0x00000200,
    CAIRN_O_PATH = 010000000, CAIRN_O_DIRECT = 040000, CAIRN_O_NOATIME = 01000000,
    CAIRN_O_TMPFILE = 020200000,
    CAIRN_AT_EMPTY_PATH = 0x1000,
    CAIRN_MFD_CLOEXEC = 1,
    CAIRN_ST_NODEV = 4, CAIRN_ST_NOSUID = 2,
};

/// statfs(2)'s f_type (the filesystem's magic number), or -errno.
long cairn_fs_type(int fd);
static const long CAIRN_UTIME_NOW = ((1l << 30) - 1l);
static const long CAIRN_UTIME_OMIT = ((1l << 30) - 2l);

static inline int cairn_errno(void) { return errno; }
static inline void cairn_set_errno(int e) { errno = e; }

static inline int cairn_renameat2(int olddirfd, const char *oldpath, int newdirfd,
                                  const char *newpath, unsigned int flags) {
    return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
}
static inline int cairn_fallocate(int fd, int mode, off_t offset, off_t len) {
    return (int)syscall(SYS_fallocate, fd, mode, offset, len);
}
static inline ssize_t cairn_copy_file_range(int fd_in, off_t *off_in, int fd_out, off_t *off_out,
                                            size_t len, unsigned int flags) {
    return (ssize_t)syscall(SYS_copy_file_range, fd_in, off_in, fd_out, off_out, len, flags);
}
static inline long cairn_getdents64(int fd, void *buf, size_t len) {
    return syscall(SYS_getdents64, fd, buf, len);
}
static inline int cairn_memfd_create(const char *name, unsigned int flags) {
    return (int)syscall(SYS_memfd_create, name, flags);
}

/// ioctl is variadic.
static inline int cairn_ioctl_ptr(int fd, unsigned long request, void *arg) {
    return ioctl(fd, request, arg);
}
/// FS_IOC_FIEMAP comes from linux/fs.h, which clashes with sys/mount.h.
static const unsigned long CAIRN_FS_IOC_FIEMAP = 0xC020660BUL;

/// The umask is per process (shared fs_struct). The first call on a thread gives that thread its
/// own fs_struct with umask 0, so the daemon applies each caller's umask itself without touching
/// the umask of the rest of the process. Returns 0, or -errno if unshare failed.
static inline int cairn_thread_private_umask0(void) {
    static __thread int state; /* 0 = not yet, 1 = done, <0 = failed errno */
    if (state == 0) {
        if (syscall(SYS_unshare, CAIRN_CLONE_FS) == 0) { umask(0); state = 1; } else { state = -errno; }
    }
    return state < 0 ? state : 0;
}

// MARK: atomics on shared memory
// The session state lives in a memfd mapping that a later daemon maps again, so its counters are
// plain memory, not Swift Atomic values.
static inline int64_t cairn_atomic_load64(const int64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void cairn_atomic_store64(int64_t *p, int64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline int64_t cairn_atomic_add64(int64_t *p, int64_t v) { return __atomic_add_fetch(p, v, __ATOMIC_ACQ_REL); }
static inline int cairn_atomic_cas64(int64_t *p, int64_t *expected, int64_t desired) {
    return __atomic_compare_exchange_n(p, expected, desired, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
static inline int32_t cairn_atomic_load32(const int32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void cairn_atomic_store32(int32_t *p, int32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

// MARK: capabilities (per thread)

/// Removes `cap` from the calling thread's effective set (it stays permitted). Capabilities are
/// per thread in Linux, so only this thread loses it. Returns 0 or -errno.
int cairn_thread_drop_effective_cap(int cap);
/// Puts `cap` back into the calling thread's effective set (it must still be permitted).
int cairn_thread_raise_effective_cap(int cap);
enum { CAIRN_CAP_FSETID = 4, CAIRN_CAP_SYS_RESOURCE = 24, CAIRN_CAP_SYS_ADMIN = 21 };

// MARK: file handles

/// name_to_handle_at with AT_EMPTY_PATH on `fd`; writes the handle type and up to `cap` bytes.
/// Returns the handle's size, or -errno (-EOVERFLOW if it needs more than `cap` bytes).
int cairn_handle_of(int fd, int *type, unsigned char *bytes, unsigned int cap, int *mount_id);
/// open_by_handle_at relative to `mount_fd` (any descriptor on the same filesystem).
int cairn_open_handle(int mount_fd, int type, const unsigned char *bytes, unsigned int size, int flags);

// MARK: project quotas

enum {
    CAIRN_PRJQUOTA = 2,
    CAIRN_QIF_BLIMITS = 1, CAIRN_QIF_SPACE = 2, CAIRN_QIF_ILIMITS = 4, CAIRN_QIF_INODES = 8,
    CAIRN_FS_XFLAG_PROJINHERIT = 0x00000200,
    CAIRN_FS_QUOTA_PDQ_ACCT = 1 << 4, CAIRN_FS_QUOTA_PDQ_ENFD = 1 << 5,
};

struct cairn_fsxattr {
    uint32_t fsx_xflags;
    uint32_t fsx_extsize;
    uint32_t fsx_nextents;
    uint32_t fsx_projid;
    uint32_t fsx_cowextsize;
    unsigned char fsx_pad[8];
};

struct cairn_dqblk {
    uint64_t dqb_bhardlimit;  // 1 KiB units
    uint64_t dqb_bsoftlimit;
    uint64_t dqb_curspace;    // bytes
    uint64_t dqb_ihardlimit;
    uint64_t dqb_isoftlimit;
    uint64_t dqb_curinodes;
    uint64_t dqb_btime;
    uint64_t dqb_itime;
    uint32_t dqb_valid;
};

/// FS_IOC_FSGETXATTR / FS_IOC_FSSETXATTR on an open (not O_PATH) descriptor.
int cairn_get_fsxattr(int fd, struct cairn_fsxattr *attr);
int cairn_set_fsxattr(int fd, const struct cairn_fsxattr *attr);
/// quotactl_fd(2) (Linux 5.14+) for project quotas of the filesystem `fd` is on.
int cairn_project_quota_get(int fd, uint32_t id, struct cairn_dqblk *out);
int cairn_project_quota_set(int fd, uint32_t id, const struct cairn_dqblk *in);
/// The FS_QUOTA_* flags of project quotas (accounting, enforcement), or -errno.
int cairn_project_quota_state(int fd);

// MARK: btrfs subvolume quotas (qgroups)
// Where ext4/XFS project quotas are not available (a kernel without CONFIG_QFMT_V2 or
// CONFIG_XFS_QUOTA), btrfs qgroups limit a subvolume: each volume is a subvolume with a limit on
// the bytes it references.

static const long CAIRN_BTRFS_SUPER_MAGIC = 0x9123683EL;
enum { CAIRN_BTRFS_FIRST_FREE_OBJECTID = 256 };
/// BTRFS_IOC_SUBVOL_CREATE on the parent directory `dirfd` (open, not O_PATH).
int cairn_btrfs_subvolume_create(int dirfd, const char *name);
/// chattr +C on a directory: files created in it are NOCOW (overwrites stay in place, as on ext4,
/// so a full volume still accepts them).
int cairn_set_nocow(int fd);
/// The id of the subvolume `fd` is in (BTRFS_IOC_INO_LOOKUP), or -errno.
int cairn_btrfs_subvolume_id(int fd, uint64_t *id);
/// Whether qgroups are on for the filesystem of `fd`: 1 on, 0 off, -errno.
int cairn_btrfs_quota_enabled(int fd);
/// Limit on the bytes the subvolume of `fd` references (0: no limit).
int cairn_btrfs_qgroup_limit(int fd, uint64_t max_referenced);
/// Bytes referenced by subvolume `id` (as of the last transaction commit), or -errno.
int cairn_btrfs_qgroup_referenced(int fd, uint64_t id, uint64_t *referenced);

// MARK: descriptors over Unix sockets

/// sendmsg with `nfds` descriptors as SCM_RIGHTS (at most 250). Returns bytes sent or -errno.
ssize_t cairn_send_fds(int sock, const void *data, size_t len, const int *fds, int nfds);
/// recvmsg that accepts up to `maxfds` descriptors (made close-on-exec); *nfds gets their count.
/// Returns bytes received (0 at end of stream) or -errno.
ssize_t cairn_recv_fds(int sock, void *data, size_t len, int *fds, int maxfds, int *nfds);

// MARK: the descriptor holder

/// Runs the holder loop on `sock` (the listening socket) and never returns: see holder.c.
/// Used by the holder process right after exec; nothing else calls it.
void cairn_holder_main(int sock) __attribute__((noreturn));

#endif
