#ifndef CAIRN_CZLIB_SHIM_H
#define CAIRN_CZLIB_SHIM_H
#include <zlib.h>

// inflateInit and deflateInit are macros (they pass zlib's version and the stream's size), which
// Swift cannot call.
static inline int cairn_inflate_init(z_stream *s) { return inflateInit(s); }
static inline int cairn_deflate_init(z_stream *s, int level) { return deflateInit(s, level); }

#endif
