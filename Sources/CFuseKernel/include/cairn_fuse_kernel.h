#ifndef CAIRN_FUSE_KERNEL_H
#define CAIRN_FUSE_KERNEL_H
// The FUSE kernel protocol as far as Cairn speaks it (protocol 7.40+; Linux 6.9+ for passthrough,
// 6.9+ for request resend). Written from the kernel's uapi documentation (include/uapi/linux/fuse.h)
// with a `cfk_` prefix, because Debian 12's linux-libc-dev (6.1) predates passthrough and libfuse
// 3.14 has no API for it. Only layouts and numbers live here; Sources/CairnFS decides what to do.
#include <stdint.h>

enum {
    CFK_KERNEL_VERSION = 7,
    CFK_KERNEL_MINOR_VERSION = 40,
    CFK_ROOT_ID = 1,
    CFK_MIN_READ_BUFFER = 8192,
};

// Opcodes.
enum {
    CFK_LOOKUP = 1, CFK_FORGET = 2, CFK_GETATTR = 3, CFK_SETATTR = 4, CFK_READLINK = 5,
    CFK_SYMLINK = 6, CFK_MKNOD = 8, CFK_MKDIR = 9, CFK_UNLINK = 10, CFK_RMDIR = 11,
    CFK_RENAME = 12, CFK_LINK = 13, CFK_OPEN = 14, CFK_READ = 15, CFK_WRITE = 16,
    CFK_STATFS = 17, CFK_RELEASE = 18, CFK_FSYNC = 20, CFK_SETXATTR = 21, CFK_GETXATTR = 22,
    CFK_LISTXATTR = 23, CFK_REMOVEXATTR = 24, CFK_FLUSH = 25, CFK_INIT = 26, CFK_OPENDIR = 27,
    CFK_READDIR = 28, CFK_RELEASEDIR = 29, CFK_FSYNCDIR = 30, CFK_GETLK = 31, CFK_SETLK = 32,
    CFK_SETLKW = 33, CFK_ACCESS = 34, CFK_CREATE = 35, CFK_INTERRUPT = 36, CFK_BMAP = 37,
    CFK_DESTROY = 38, CFK_IOCTL = 39, CFK_POLL = 40, CFK_NOTIFY_REPLY = 41, CFK_BATCH_FORGET = 42,
    CFK_FALLOCATE = 43, CFK_READDIRPLUS = 44, CFK_RENAME2 = 45, CFK_LSEEK = 46,
    CFK_COPY_FILE_RANGE = 47, CFK_SETUPMAPPING = 48, CFK_REMOVEMAPPING = 49, CFK_SYNCFS = 50,
    CFK_TMPFILE = 51, CFK_STATX = 52, CFK_COPY_FILE_RANGE_64 = 53,
};

// Notifications (out header with unique 0 and the code in `error`).
enum {
    CFK_NOTIFY_POLL = 1, CFK_NOTIFY_INVAL_INODE = 2, CFK_NOTIFY_INVAL_ENTRY = 3,
    CFK_NOTIFY_STORE = 4, CFK_NOTIFY_RETRIEVE = 5, CFK_NOTIFY_DELETE = 6, CFK_NOTIFY_RESEND = 7,
};

// INIT flags (flags: bits 0-31, flags2: bits 32-63 as flags2 bit N-32).
static const uint64_t CFK_ASYNC_READ = 1ULL << 0;
static const uint64_t CFK_POSIX_LOCKS = 1ULL << 1;
static const uint64_t CFK_FILE_OPS = 1ULL << 2;
static const uint64_t CFK_ATOMIC_O_TRUNC = 1ULL << 3;
static const uint64_t CFK_EXPORT_SUPPORT = 1ULL << 4;
static const uint64_t CFK_BIG_WRITES = 1ULL << 5;
static const uint64_t CFK_DONT_MASK = 1ULL << 6;
static const uint64_t CFK_SPLICE_WRITE = 1ULL << 7;
static const uint64_t CFK_SPLICE_MOVE = 1ULL << 8;
static const uint64_t CFK_SPLICE_READ = 1ULL << 9;
static const uint64_t CFK_FLOCK_LOCKS = 1ULL << 10;
static const uint64_t CFK_HAS_IOCTL_DIR = 1ULL << 11;
static const uint64_t CFK_AUTO_INVAL_DATA = 1ULL << 12;
static const uint64_t CFK_DO_READDIRPLUS = 1ULL << 13;
static const uint64_t CFK_READDIRPLUS_AUTO = 1ULL << 14;
static const uint64_t CFK_ASYNC_DIO = 1ULL << 15;
static const uint64_t CFK_WRITEBACK_CACHE = 1ULL << 16;
static const uint64_t CFK_NO_OPEN_SUPPORT = 1ULL << 17;
static const uint64_t CFK_PARALLEL_DIROPS = 1ULL << 18;
static const uint64_t CFK_HANDLE_KILLPRIV = 1ULL << 19;
static const uint64_t CFK_POSIX_ACL = 1ULL << 20;
static const uint64_t CFK_ABORT_ERROR = 1ULL << 21;
static const uint64_t CFK_MAX_PAGES = 1ULL << 22;
static const uint64_t CFK_CACHE_SYMLINKS = 1ULL << 23;
static const uint64_t CFK_NO_OPENDIR_SUPPORT = 1ULL << 24;
static const uint64_t CFK_EXPLICIT_INVAL_DATA = 1ULL << 25;
static const uint64_t CFK_MAP_ALIGNMENT = 1ULL << 26;
static const uint64_t CFK_SUBMOUNTS = 1ULL << 27;
static const uint64_t CFK_HANDLE_KILLPRIV_V2 = 1ULL << 28;
static const uint64_t CFK_SETXATTR_EXT = 1ULL << 29;
static const uint64_t CFK_INIT_EXT = 1ULL << 30;
static const uint64_t CFK_SECURITY_CTX = 1ULL << 32;
static const uint64_t CFK_HAS_INODE_DAX = 1ULL << 33;
static const uint64_t CFK_CREATE_SUPP_GROUP = 1ULL << 34;
static const uint64_t CFK_HAS_EXPIRE_ONLY = 1ULL << 35;
static const uint64_t CFK_DIRECT_IO_ALLOW_MMAP = 1ULL << 36;
static const uint64_t CFK_PASSTHROUGH = 1ULL << 37;
static const uint64_t CFK_NO_EXPORT_SUPPORT = 1ULL << 38;
static const uint64_t CFK_HAS_RESEND = 1ULL << 39;

// A resent request (after FUSE_NOTIFY_RESEND) carries this bit in `unique`.
static const uint64_t CFK_UNIQUE_RESEND = 1ULL << 63;

// open_out.open_flags
enum {
    CFK_FOPEN_DIRECT_IO = 1 << 0, CFK_FOPEN_KEEP_CACHE = 1 << 1, CFK_FOPEN_NONSEEKABLE = 1 << 2,
    CFK_FOPEN_CACHE_DIR = 1 << 3, CFK_FOPEN_STREAM = 1 << 4, CFK_FOPEN_NOFLUSH = 1 << 5,
    CFK_FOPEN_PARALLEL_DIRECT_WRITES = 1 << 6, CFK_FOPEN_PASSTHROUGH = 1 << 7,
};

// setattr_in.valid
enum {
    CFK_FATTR_MODE = 1 << 0, CFK_FATTR_UID = 1 << 1, CFK_FATTR_GID = 1 << 2, CFK_FATTR_SIZE = 1 << 3,
    CFK_FATTR_ATIME = 1 << 4, CFK_FATTR_MTIME = 1 << 5, CFK_FATTR_FH = 1 << 6,
    CFK_FATTR_ATIME_NOW = 1 << 7, CFK_FATTR_MTIME_NOW = 1 << 8, CFK_FATTR_LOCKOWNER = 1 << 9,
    CFK_FATTR_CTIME = 1 << 10, CFK_FATTR_KILL_SUIDGID = 1 << 11,
};

enum { CFK_GETATTR_FH = 1 << 0 };
enum { CFK_WRITE_CACHE = 1 << 0, CFK_WRITE_LOCKOWNER = 1 << 1, CFK_WRITE_KILL_SUIDGID = 1 << 2 };
enum { CFK_OPEN_KILL_SUIDGID = 1 << 0 };
enum { CFK_RELEASE_FLUSH = 1 << 0, CFK_RELEASE_FLOCK_UNLOCK = 1 << 1 };
enum { CFK_FSYNC_FDATASYNC = 1 << 0 };
enum { CFK_SETXATTR_ACL_KILL_SGID = 1 << 0 };
enum { CFK_COMPAT_SETXATTR_IN_SIZE = 8 };

struct cfk_attr {
    uint64_t ino;
    uint64_t size;
    uint64_t blocks;
    uint64_t atime;
    uint64_t mtime;
    uint64_t ctime;
    uint32_t atimensec;
    uint32_t mtimensec;
    uint32_t ctimensec;
    uint32_t mode;
    uint32_t nlink;
    uint32_t uid;
    uint32_t gid;
    uint32_t rdev;
    uint32_t blksize;
    uint32_t flags;
};

struct cfk_in_header {
    uint32_t len;
    uint32_t opcode;
    uint64_t unique;
    uint64_t nodeid;
    uint32_t uid;
    uint32_t gid;
    uint32_t pid;
    uint16_t total_extlen;  // in units of 8 bytes
    uint16_t padding;
};

struct cfk_out_header {
    uint32_t len;
    int32_t error;
    uint64_t unique;
};

struct cfk_entry_out {
    uint64_t nodeid;
    uint64_t generation;
    uint64_t entry_valid;
    uint64_t attr_valid;
    uint32_t entry_valid_nsec;
    uint32_t attr_valid_nsec;
    struct cfk_attr attr;
};

struct cfk_attr_out {
    uint64_t attr_valid;
    uint32_t attr_valid_nsec;
    uint32_t dummy;
    struct cfk_attr attr;
};

struct cfk_forget_in { uint64_t nlookup; };
struct cfk_forget_one { uint64_t nodeid; uint64_t nlookup; };
struct cfk_batch_forget_in { uint32_t count; uint32_t dummy; };
struct cfk_getattr_in { uint32_t getattr_flags; uint32_t dummy; uint64_t fh; };
struct cfk_mknod_in { uint32_t mode; uint32_t rdev; uint32_t umask; uint32_t padding; };
struct cfk_mkdir_in { uint32_t mode; uint32_t umask; };
struct cfk_rename_in { uint64_t newdir; };
struct cfk_rename2_in { uint64_t newdir; uint32_t flags; uint32_t padding; };
struct cfk_link_in { uint64_t oldnodeid; };

struct cfk_setattr_in {
    uint32_t valid;
    uint32_t padding;
    uint64_t fh;
    uint64_t size;
    uint64_t lock_owner;
    uint64_t atime;
    uint64_t mtime;
    uint64_t ctime;
    uint32_t atimensec;
    uint32_t mtimensec;
    uint32_t ctimensec;
    uint32_t mode;
    uint32_t unused4;
    uint32_t uid;
    uint32_t gid;
    uint32_t unused5;
};

struct cfk_open_in { uint32_t flags; uint32_t open_flags; };
struct cfk_create_in { uint32_t flags; uint32_t mode; uint32_t umask; uint32_t open_flags; };
struct cfk_open_out { uint64_t fh; uint32_t open_flags; int32_t backing_id; };
struct cfk_release_in { uint64_t fh; uint32_t flags; uint32_t release_flags; uint64_t lock_owner; };
struct cfk_flush_in { uint64_t fh; uint32_t unused; uint32_t padding; uint64_t lock_owner; };

struct cfk_read_in {
    uint64_t fh;
    uint64_t offset;
    uint32_t size;
    uint32_t read_flags;
    uint64_t lock_owner;
    uint32_t flags;
    uint32_t padding;
};

struct cfk_write_in {
    uint64_t fh;
    uint64_t offset;
    uint32_t size;
    uint32_t write_flags;
    uint64_t lock_owner;
    uint32_t flags;
    uint32_t padding;
};

struct cfk_write_out { uint32_t size; uint32_t padding; };

struct cfk_kstatfs {
    uint64_t blocks;
    uint64_t bfree;
    uint64_t bavail;
    uint64_t files;
    uint64_t ffree;
    uint32_t bsize;
    uint32_t namelen;
    uint32_t frsize;
    uint32_t padding;
    uint32_t spare[6];
};

struct cfk_fsync_in { uint64_t fh; uint32_t fsync_flags; uint32_t padding; };
struct cfk_setxattr_in { uint32_t size; uint32_t flags; uint32_t setxattr_flags; uint32_t padding; };
struct cfk_getxattr_in { uint32_t size; uint32_t padding; };
struct cfk_getxattr_out { uint32_t size; uint32_t padding; };
struct cfk_access_in { uint32_t mask; uint32_t padding; };
struct cfk_interrupt_in { uint64_t unique; };

struct cfk_init_in {
    uint32_t major;
    uint32_t minor;
    uint32_t max_readahead;
    uint32_t flags;
    uint32_t flags2;
    uint32_t unused[11];
};

struct cfk_init_out {
    uint32_t major;
    uint32_t minor;
    uint32_t max_readahead;
    uint32_t flags;
    uint16_t max_background;
    uint16_t congestion_threshold;
    uint32_t max_write;
    uint32_t time_gran;
    uint16_t max_pages;
    uint16_t map_alignment;
    uint32_t flags2;
    uint32_t max_stack_depth;
    uint16_t request_timeout;
    uint16_t unused[11];
};

struct cfk_fallocate_in { uint64_t fh; uint64_t offset; uint64_t length; uint32_t mode; uint32_t padding; };
struct cfk_lseek_in { uint64_t fh; uint64_t offset; uint32_t whence; uint32_t padding; };
struct cfk_lseek_out { uint64_t offset; };

struct cfk_copy_file_range_in {
    uint64_t fh_in;
    uint64_t off_in;
    uint64_t nodeid_out;
    uint64_t fh_out;
    uint64_t off_out;
    uint64_t len;
    uint64_t flags;
};

struct cfk_dirent {
    uint64_t ino;
    uint64_t off;
    uint32_t namelen;
    uint32_t type;
    // name follows, not NUL-terminated, padded to 8 bytes
};

struct cfk_notify_inval_inode_out { uint64_t ino; int64_t off; int64_t len; };
struct cfk_notify_inval_entry_out { uint64_t parent; uint32_t namelen; uint32_t flags; };

// Passthrough: FUSE_DEV_IOC_BACKING_OPEN registers an open file as a backing file and returns its
// id (> 0), which an OPEN/CREATE reply names with FOPEN_PASSTHROUGH.
struct cfk_backing_map { int32_t fd; uint32_t flags; uint64_t padding; };

// ioctl numbers on /dev/fuse: _IOR(229, 0, uint32_t), _IOW(229, 1, struct cfk_backing_map),
// _IOW(229, 2, uint32_t).
static const unsigned long CFK_DEV_IOC_CLONE = 0x8004e500UL;
static const unsigned long CFK_DEV_IOC_BACKING_OPEN = 0x4010e501UL;
static const unsigned long CFK_DEV_IOC_BACKING_CLOSE = 0x4004e502UL;

_Static_assert(sizeof(struct cfk_attr) == 88, "fuse_attr");
_Static_assert(sizeof(struct cfk_in_header) == 40, "fuse_in_header");
_Static_assert(sizeof(struct cfk_entry_out) == 128, "fuse_entry_out");
_Static_assert(sizeof(struct cfk_attr_out) == 104, "fuse_attr_out");
_Static_assert(sizeof(struct cfk_setattr_in) == 88, "fuse_setattr_in");
_Static_assert(sizeof(struct cfk_init_in) == 64, "fuse_init_in");
_Static_assert(sizeof(struct cfk_init_out) == 64, "fuse_init_out");
_Static_assert(sizeof(struct cfk_read_in) == 40, "fuse_read_in");
_Static_assert(sizeof(struct cfk_write_in) == 40, "fuse_write_in");
_Static_assert(sizeof(struct cfk_kstatfs) == 80, "fuse_kstatfs");
_Static_assert(sizeof(struct cfk_copy_file_range_in) == 56, "fuse_copy_file_range_in");
_Static_assert(sizeof(struct cfk_backing_map) == 16, "fuse_backing_map");

#endif
