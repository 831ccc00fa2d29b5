#ifndef CFUSEKERNEL_H
#define CFUSEKERNEL_H
#include "cairn_fuse_kernel.h"
#include "cairn_sys.h"
#endif
