// A pod's process for tools/restart-serve.sh: keeps FILE open and writes 4 KiB blocks to it in a
// loop (fsync every 16, about 1000 a second) until SIGTERM or SIGINT, then prints what it saw:
//   writes=N errors=N longest_stall_ms=N.N
// and the first few errors on stderr. An error or a stall is what a daemon restart must not cause.
//
//   cc -O2 -o pod-writer tools/pod-writer.c && ./pod-writer FILE
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: pod-writer FILE\n");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "pod-writer: open %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    char block[4096];
    memset(block, 'w', sizeof block);
    long writes = 0, errors = 0;
    double last = now(), longest = 0;
    while (!stop) {
        ssize_t n = write(fd, block, sizeof block);
        if (n != (ssize_t)sizeof block) {
            if (errors++ < 5) fprintf(stderr, "pod-writer: write %ld: %s\n", writes, n < 0 ? strerror(errno) : "short");
        } else {
            writes++;
        }
        if (writes % 16 == 0 && fsync(fd) != 0 && errors++ < 5) fprintf(stderr, "pod-writer: fsync: %s\n", strerror(errno));
        double t = now();
        if (t - last > longest) longest = t - last;
        last = t;
        usleep(1000);
    }
    printf("writes=%ld errors=%ld longest_stall_ms=%.1f\n", writes, errors, longest * 1000);
    return errors == 0 ? 0 : 1;
}
