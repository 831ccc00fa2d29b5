#ifndef CAIRN_CFUSE3_SHIM_H
#define CAIRN_CFUSE3_SHIM_H
#define FUSE_USE_VERSION 314
#include <fuse3/fuse_lowlevel.h>
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <sys/mount.h>
#include <sys/ioctl.h>
#include <linux/fiemap.h>

// Helpers for what Swift cannot call directly: macro-selected symbols, macro initialisers and
// C thread-locals. No filesystem logic lives here.

/// fuse_session_loop_mt is a macro that picks a versioned symbol; the loop config is opaque.
static inline int cairn_session_loop_mt(struct fuse_session *se, unsigned max_threads,
                                        unsigned max_idle_threads, int clone_fd) {
    struct fuse_loop_config *cfg = fuse_loop_cfg_create();
    if (cfg == NULL) return -ENOMEM;
    fuse_loop_cfg_set_max_threads(cfg, max_threads);
    fuse_loop_cfg_set_idle_threads(cfg, max_idle_threads);
    fuse_loop_cfg_set_clone_fd(cfg, (unsigned)clone_fd);
    int r = fuse_session_loop_mt(se, cfg);
    fuse_loop_cfg_destroy(cfg);
    return r;
}

/// FUSE_BUFVEC_INIT is a macro: a one-buffer vector that names a file descriptor at an offset.
static inline struct fuse_bufvec cairn_fd_bufvec(int fd, size_t size, off_t pos) {
    struct fuse_bufvec v = FUSE_BUFVEC_INIT(size);
    v.buf[0].flags = (enum fuse_buf_flags)(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
    v.buf[0].fd = fd;
    v.buf[0].pos = pos;
    return v;
}

/// The umask is per process (shared fs_struct). The first call on a thread gives that thread its
/// own fs_struct with umask 0, so the daemon applies each caller's umask itself without touching
/// the umask of the rest of the process. Returns 0, or -errno if unshare failed.
static inline int cairn_thread_private_umask0(void) {
    static __thread int state; /* 0 = not yet, 1 = done, <0 = failed errno */
    if (state == 0) {
        if (syscall(SYS_unshare, 0x00000200 /* CLONE_FS */) == 0) { umask(0); state = 1; } else { state = -errno; }
    }
    return state < 0 ? state : 0;
}


// Linux calls that glibc declares only under _GNU_SOURCE, which the Swift Glibc module is not
// built with (defining it here breaks the module), so they go through syscall(2).
enum {
    CAIRN_RENAME_NOREPLACE = 1, CAIRN_RENAME_EXCHANGE = 2, CAIRN_RENAME_WHITEOUT = 4,
    CAIRN_SEEK_DATA = 3, CAIRN_SEEK_HOLE = 4,
    CAIRN_FALLOC_FL_KEEP_SIZE = 1, CAIRN_FALLOC_FL_PUNCH_HOLE = 2,
    CAIRN_CLONE_FS = 0x00000200,
    CAIRN_O_PATH = 010000000, CAIRN_O_DIRECT = 040000, CAIRN_O_NOATIME = 01000000,
    CAIRN_AT_EMPTY_PATH = 0x1000,
};
static const long CAIRN_UTIME_NOW = ((1l << 30) - 1l);
static const long CAIRN_UTIME_OMIT = ((1l << 30) - 2l);

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
/// ioctl is variadic. FS_IOC_FIEMAP comes from linux/fs.h, which clashes with sys/mount.h.
static const unsigned long CAIRN_FS_IOC_FIEMAP = 0xC020660BUL;
static inline int cairn_ioctl_ptr(int fd, unsigned long request, void *arg) {
    return ioctl(fd, request, arg);
}
static inline int cairn_errno(void) { return errno; }
static inline void cairn_set_errno(int e) { errno = e; }

#endif
