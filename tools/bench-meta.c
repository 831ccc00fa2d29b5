// Metadata loop for tools/bench-fs.sh: measures the filesystem, not the tool. In DIR, for N files:
//   create: open(O_CREAT|O_EXCL|O_WRONLY) + one 1 KiB write + close
//   stat:   stat of every file
//   unlink: unlink of every file
// Prints "create OPS\nstat OPS\nunlink OPS" (operations per second, one file = one operation).
//
//   cc -O2 -o bench-meta tools/bench-meta.c && ./bench-meta DIR 10000
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, const char *path) {
    fprintf(stderr, "bench-meta: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: bench-meta DIR FILES\n");
        return 2;
    }
    const char *dir = argv[1];
    long n = strtol(argv[2], NULL, 10);
    if (n <= 0) {
        fprintf(stderr, "bench-meta: FILES must be a positive number\n");
        return 2;
    }
    if (chdir(dir) != 0) die("chdir", dir);
    char data[1024];
    memset(data, 'c', sizeof data);
    char name[64];

    double t0 = now();
    for (long i = 0; i < n; i++) {
        snprintf(name, sizeof name, "f%ld", i);
        int fd = open(name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0) die("open", name);
        if (write(fd, data, sizeof data) != (ssize_t)sizeof data) die("write", name);
        if (close(fd) != 0) die("close", name);
    }
    double t1 = now();
    struct stat st;
    for (long i = 0; i < n; i++) {
        snprintf(name, sizeof name, "f%ld", i);
        if (stat(name, &st) != 0) die("stat", name);
        if (st.st_size != (off_t)sizeof data) {
            fprintf(stderr, "bench-meta: %s has size %lld, want %zu\n", name, (long long)st.st_size, sizeof data);
            return 1;
        }
    }
    double t2 = now();
    for (long i = 0; i < n; i++) {
        snprintf(name, sizeof name, "f%ld", i);
        if (unlink(name) != 0) die("unlink", name);
    }
    double t3 = now();
    printf("create %.1f\nstat %.1f\nunlink %.1f\n", n / (t1 - t0), n / (t2 - t1), n / (t3 - t2));
    return 0;
}
