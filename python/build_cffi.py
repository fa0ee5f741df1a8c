#!/usr/bin/python3
"""build_cffi.py: build seqloop's Python extension (cffi API mode, Debian's
python3-cffi) into python/seqloop/. Run by `make python`:

    cd python && /usr/bin/python3 build_cffi.py ../build/libseqloop.a "-llbfgs -lz ..."

The extension links libseqloop.a statically (no rpath, no LD_LIBRARY_PATH) and
the library's own dependencies dynamically. API mode: the C compiler checks
every declaration of seqloop/_cdef.h against the real headers."""
import os
import shutil
import sys

import cffi

here = os.path.dirname(os.path.abspath(__file__))
lib_a, ldlibs = os.path.abspath(sys.argv[1]), sys.argv[2].split()
cdef = open(os.path.join(here, "seqloop", "_cdef.h")).read()
ffi = cffi.FFI()
ffi.cdef(cdef)
ffi.set_source(
    "seqloop._seqloop_cffi",
    '#include "seqloop/seqloop.h"\n#include "_glue.h"\n',
    sources=[os.path.join(here, "seqloop", "_glue.c")],
    include_dirs=[os.path.join(here, "..", "include"), os.path.join(here, "seqloop")],
    extra_compile_args=["-std=c11", "-fopenmp", "-D_GNU_SOURCE", "-O2"],
    extra_objects=[lib_a],
    extra_link_args=["-fopenmp"],
    libraries=[l[2:] for l in ldlibs if l.startswith("-l")],
)
tmp = os.path.join(here, "build_tmp")
out = ffi.compile(tmpdir=tmp, verbose=False)
dest = os.path.join(here, "seqloop", os.path.basename(out))
for old in os.listdir(os.path.join(here, "seqloop")):
    if old.startswith("_seqloop_cffi") and old.endswith(".so"):
        os.remove(os.path.join(here, "seqloop", old))
shutil.copy(out, dest)
print("built", os.path.relpath(dest, os.path.join(here, "..")))
