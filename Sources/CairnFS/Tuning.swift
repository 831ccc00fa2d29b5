/// Knobs of the kernel protocol. The defaults are what Cairn runs with; the harness exposes
/// them so the benchmark can show what each one is worth.
public struct FileSystemTuning: Sendable, Equatable {
    /// Kept for source compatibility; requests are read with read(2) into one buffer per worker
    /// (splicing measured no gain once reads go through passthrough).
    public var spliceRead = false
    /// Kept for source compatibility (see `spliceRead`).
    public var spliceWrite = false
    /// Kernel writeback cache. Off: with it, write() returns before Cairn sees the data, so
    /// ENOSPC could only surface at fsync/close. Only for measuring what it would be worth; it
    /// also turns passthrough off (the kernel allows one or the other).
    public var writebackCache = false
    /// Worker threads at most, each reading its own cloned /dev/fuse descriptor. Only
    /// `initialThreads` read at first: the kernel hands each request to the reader that has waited
    /// longest, so every extra idle reader makes a synchronous stream hop between threads (4-KiB
    /// writes: 25 us with 1 or 2 readers, 42 us with 4, on 2 cores). Another starts when a worker
    /// begins a slow call (fsync, fallocate, copy_file_range) while none is idle, so a long fsync
    /// never stalls the node's other volumes.
    public var maxThreads: UInt32 = 4
    public var initialThreads: UInt32 = 2
    /// Kept for source compatibility: every worker stays (idle = max).
    public var maxIdleThreads: UInt32 = 4
    /// Kept for source compatibility: every worker has its own cloned descriptor.
    public var cloneFD = true
    public var entryTimeout: Double = 10
    public var attrTimeout: Double = 10
    /// Readahead of the FUSE mount's backing device info, set after INIT (the kernel otherwise
    /// caps it at 128 KiB). Matters for files read through the daemon (cached opens).
    public var readaheadKiB: Int = 1024
    /// Re-check attributes before cached reads and drop the cache when mtime/size moved. Every
    /// change goes through this mount, so the kernel already knows; open() still compares
    /// mtime and size (keep_cache) for changes made to the backing directory directly.
    public var autoInvalidateData = false
    /// Kernel passthrough (FUSE_PASSTHROUGH, Linux 6.9+) where it cannot cross a volume's capacity:
    /// read-only opens, and every open of a volume with project quotas.
    public var passthrough = true
    /// Project quotas on backing filesystems that enforce them (each volume its own project id
    /// and a hard limit = capacity). Off: Cairn's own accounting everywhere.
    public var projectQuotas = true
    /// Keep the connection's descriptors in a holder process, so a daemon that exits or crashes
    /// leaves the mount waiting for the next one instead of broken.
    public var holder = true
    /// How long the holder waits for the next daemon after one ended without unmounting (0:
    /// forever). After it, the holder lets the connection go: calls fail with ENOTCONN.
    public var takeoverTimeout: Double = 60

    public init() {}
}
