#!/usr/bin/env python3
"""Checks the machine code of shimmy's hot kernels in a release binary (x86-64 with AVX-512, as built for this CPU).

    python3 scripts/check-disasm.py [.build/release/shimmy]

Each kernel must
  - call no Swift function: a helper that was not inlined (an `@usableFromInline` one under an `@inlinable` kernel,
    a standard-library generic such as `wrappedSum`) costs a call through the vector ABI per use: 20% of a prompt
    batch once. Calls into libc/libm (memset, expf for tails) are allowed, and those listed in CALLS;
  - contain the vector instructions its design relies on ("mnemonic/zmm": on 512-bit registers), and none of those
    known to be slow in its place.
Exits non-zero with the offending kernels listed. Run by scripts/test.sh after the release build.
"""
import os
import re
import shutil
import subprocess
import sys

binary = sys.argv[1] if len(sys.argv) > 1 else ".build/release/shimmy"

# (mangled-name prefix, what it is, instructions that must appear (a prefix of the mnemonic), instructions that must
# not). Every function whose name starts with the prefix counts (the compiler's specialized copies and their thunks).
KERNELS = [
    ("$s7Tensors7DotQ4_1O7tile4x4", "Q4_1 4x4 tile", ["vpmaddwd", "vfmadd231ps", "vcvtdq2ps"], ["vpmulld"]),
    ("$s7Tensors7DotQ4_1O7tile4x1", "Q4_1 mat-vec tile", ["vpmaddwd", "vfmadd231ps"], ["vpmulld", "vpermt2d"]),
    ("$s7Tensors7DotQ8_0O7tile4x4", "Q8_0 4x4 tile", ["vpmullw", "vfmadd231ps", "vpmovsxbw"], ["vpmulld"]),
    ("$s7Tensors7DotQ8_0O7tile4x1", "Q8_0 mat-vec tile", ["vpmullw", "vfmadd231ps"], ["vpmulld"]),
    ("$s7Tensors7DotQ4_0O7tile4x4", "Q4_0 4x4 tile", ["vpmullw", "vcvtdq2ps", "vfmadd"], []),
    ("$s7Tensors7DotQ4_0O7tile8x1", "Q4_0 mat-vec tile", ["vpmullw", "vfmadd"], []),
    # the scale products d · e of a row and token pair in one zmm vmulps (scalePair: with the pair in view LLVM had
    # multiplied in xmm and spread each product with a vpermps)
    # the 16 outputs' tree sums side by side through vpermt2ps (16 treeSums had been ~130 narrow shuffles, each
    # ending in vmovshdup + vaddss)
    # the four rows' (d, m) pairs blended from 16-byte loads (halfPairs: vpinsrd had made each a shuffle)
    ("$s7Tensors7DotQ4_1O11vnniTile4x4", "Q4_1 VNNI 4x4 tile", ["vpdpbusd/zmm", "vmulps/zmm", "vfmadd231ps/zmm",
                                                               "vcvtdq2ps/zmm", "vgf2p8affineqb/zmm", "vpermt2ps",
                                                               "vblendps"],
     ["vpmullw", "vpmaddwd", "movzbl", "vmovshdup"]),
    ("$s7Tensors7DotQ4_1O11vnniTile4x8", "Q4_1 VNNI 4x8 tile", ["vpdpbusd/zmm", "vmulps/zmm", "vfmadd231ps/zmm",
                                                               "vcvtdq2ps/zmm", "vgf2p8affineqb/zmm", "vpermt2ps",
                                                               "vblendps"],
     ["vpmullw", "vpmaddwd", "movzbl", "vmovshdup"]),
    # two rows per 512-bit vector (one vpdpbusd, conversion and FMA per two rows and block), one GFNI split per two
    # rows, the four scale products in one vector multiply and each pair's spread by a `vpermps`/`vpermd` (with
    # constant lane indices LLVM had made four vmulss and their broadcasts)
    ("$s7Tensors7DotQ4_1O11vnniTile4x1", "Q4_1 VNNI mat-vec tile", ["vpdpbusd/zmm", "vcvtdq2ps/zmm", "vfmadd/zmm",
                                                                   "vgf2p8affineqb/zmm", "vperm/zmm", "prefetcht0",
                                                                   "vblendps"],
     ["vpmullw", "vpmaddwd", "vmulss", "vinserti128"]),
    # a 32-lane byte operation (|w|, x ^ 0x80) became a loop of vpbroadcastb/movzbl over the lanes twice
    # two tokens per 512-bit vector (Zen 5 issues zmm vpdpbusd/FMA at the ymm rate)
    ("$s7Tensors7DotQ8_0O11vnniTile4x4", "Q8_0 VNNI 4x4 tile", ["vpdpbusd/zmm", "vmulps/zmm", "vpxor", "vfmadd231ps/zmm",
                                                               "vcvtdq2ps/zmm", "vpermt2ps"],
     ["vpmullw", "vpbroadcastb", "movzbl", "vmovshdup"]),
    ("$s7Tensors7DotQ8_0O11vnniTile4x8", "Q8_0 VNNI 4x8 tile", ["vpdpbusd/zmm", "vmulps/zmm", "vpxor", "vfmadd231ps/zmm",
                                                               "vcvtdq2ps/zmm", "vpermt2ps"],
     ["vpmullw", "vpbroadcastb", "movzbl", "vmovshdup"]),
    ("$s7Tensors7DotQ8_0O11vnniTile4x1", "Q8_0 VNNI mat-vec tile", ["vpdpbusd", "vpxor", "vfmadd", "prefetcht0"],
     ["vpmullw", "vpbroadcastb", "movzbl"]),
    # the rows' quants transposed in registers by `vpermt2d`; with constant indices LLVM had merged the shuffles into
    # the loads as ~40 inserts and blends per block (`vpblendd`)
    ("$s7Tensors7DotQ4_0O13vnniTile16x8T", "Q4_0 VNNI 16x8 transposed tile", ["vpdpbusd/zmm", "vpermt2d/zmm",
                                                                             "vcvtdq2ps/zmm", "vfmadd231ps/zmm"],
     ["vpmullw", "vphaddd", "vblendps", "vpbroadcastb", "movzbl"]),
    ("$s7Tensors7DotQ4_0O12vnniTile8x8T", "Q4_0 VNNI 8x8 transposed tile", ["vpdpbusd", "vpermt2d", "vcvtdq2ps",
                                                                          "vfmadd231ps"], ["vpmullw", "vphaddd", "vblendps"]),
    ("$s7Tensors7DotQ4_0O12vnniTile8x4T", "Q4_0 VNNI 8x4 transposed tile", ["vpdpbusd", "vpermt2d", "vfmadd231ps"],
     ["vpmullw", "vphaddd", "vblendps"]),
    ("$s7Tensors7DotQ4_0O12vnniTile8x1T", "Q4_0 VNNI mat-vec tile", ["vpdpbusd", "vpermt2d", "vfmadd", "prefetcht0",
                                                                   "vgf2p8affineqb"],
     ["vpmullw", "vphaddd", "vblendps"]),
    # the interleaved copy (Q4_0Interleave): no transposes, one vcvtph2ps for the 8 rows' scales
    ("$s7Tensors7DotQ4_0O18interleavedTile8x1", "Q4_0 VNNI interleaved mat-vec tile",
     ["vpdpbusd", "vfmadd", "prefetcht0", "vgf2p8affineqb", "vcvtph2ps"], ["vpermt2d", "vpinsrw", "vmulss"]),
    ("$s7Tensors8DotFloatO4rows", "F16/F32 rows and tiles", ["vcvtph2ps/zmm", "vfmadd231ps/zmm", "prefetcht0"], []),
    # the 4x4 tiles' 16 tree sums through vpermt2ps: with constant permute indices LLVM had made ~150 narrow
    # shuffles of them per tile (F16 pp512 -20%)
    ("$s7Tensors8DotFloatO4rows", "F16/F32 tile sums (VNNI build)", ["vpermt2ps"], ["vshufps"]),
    # 2x8 tiles over blocks of rows, F16 blocks converted to f32 first (one call per matmul task)
    ("$s7Tensors8DotFloatO8tiles2x8", "F16/F32 2x8 tiles", ["vcvtph2ps/zmm", "vfmadd231ps/zmm"], []),
    ("$s7Tensors8DotFloatO8tiles2x8", "F16/F32 2x8 tile sums (VNNI build)", ["vpermt2ps"], ["vshufps"]),
    ("$s7Tensors3OpsO14attentionExact", "attention", ["vcvtph2ps", "vfmadd231ps", "vcvtps2ph"], []),
    ("$s7Tensors3OpsO15attentionExact3", "attention, three heads", ["vcvtph2ps", "vfmadd231ps", "vcvtps2ph"], []),
    # one query's output values: functions of their own (one call per head or KV group), the chains on zmm
    ("$s7Tensors3OpsO14valuesOneQuery", "attention values, one query", ["vcvtph2ps/zmm", "vfmadd231ps/zmm"], []),
    ("$s7Tensors3OpsO15valuesOneQuery3", "attention values, one query, three heads", ["vcvtph2ps/zmm",
                                                                                     "vfmadd231ps/zmm"], []),
    # one query's score blocks (VNNI builds): the tree sums of 16 keys side by side through vpermt2ps
    ("$s7Tensors3OpsO19oneQueryScoreBlocks_", "attention scores, one query (VNNI build)", ["vcvtph2ps/zmm", "vfmadd231ps/zmm",
                                                                            "vpermt2ps", "prefetcht0"], []),
    ("$s7Tensors3OpsO20oneQueryScoreBlocks3", "attention scores, one query, three heads (VNNI build)",
     ["vcvtph2ps/zmm", "vfmadd231ps/zmm", "vpermt2ps", "prefetcht0"], []),
    # a batch query's score blocks: functions of their own (one call per head or KV group); in VNNI builds the tree
    # sums of 16 keys side by side through vpermt2ps, as above
    ("$s7Tensors3OpsO11scoreBlocks_", "attention scores, batch", ["vcvtph2ps/zmm", "vfmadd231ps/zmm"], []),
    ("$s7Tensors3OpsO12scoreBlocks3", "attention scores, batch, three heads (VNNI build; portable: scoreBlocks per head)",
     ["vcvtph2ps/zmm", "vfmadd231ps/zmm"], []),
    ("$s7Tensors3OpsO11scoreBlocks_", "attention score sums, batch (VNNI build)", ["vpermt2ps"], ["vshufps"]),
    ("$s7Tensors3OpsO12scoreBlocks3", "attention score sums, batch, three heads (VNNI build)", ["vpermt2ps"],
     ["vshufps"]),
    ("$s7Tensors3OpsO6swiglu", "SwiGLU", ["vfmadd213ps", "vdivps"], []),
    # rounding, clamping and the conversion to integers across the lanes (Int32(Float) kept it a loop of scalars)
    ("$s7Tensors15ActivationQuantO15quantizeRowWide", "activation quantizer", ["vrndscaleps", "vcmpltps"],
     ["vcvttss2si", "vcvttps2dq"]),
]

# Calls a kernel makes on purpose: (caller prefix) -> [callee prefixes], each callee a kernel checked above.
CALLS = {"$s7Tensors8DotFloatO4rows": ["$s7Tensors8DotFloatO8tiles2x8"],
         "$s7Tensors3OpsO14attentionExact": ["$s7Tensors3OpsO14valuesOneQuery",  # once per head
                                             "$s7Tensors3OpsO19oneQueryScoreBlocks_",
                                             "$s7Tensors3OpsO11scoreBlocks_"],
         "$s7Tensors3OpsO15attentionExact3": ["$s7Tensors3OpsO15valuesOneQuery3",  # once per KV group
                                              "$s7Tensors3OpsO20oneQueryScoreBlocks3",
                                              "$s7Tensors3OpsO12scoreBlocks3"],
         "$s7Tensors3OpsO12scoreBlocks3": ["$s7Tensors3OpsO11scoreBlocks_"]}  # the portable build, once per head

if shutil.which("objdump") is None:
    sys.exit("check-disasm: objdump not found (Debian package binutils)")
text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", binary], capture_output=True, text=True,
                      check=True).stdout

functions = {}
current = None
for line in text.splitlines():
    header = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
    if header:
        current = header.group(1)
        functions[current] = []
    elif current is not None and "\t" in line:
        functions[current].append(line.split("\t", 1)[1].strip())

failures = []
cpuinfo = open("/proc/cpuinfo").read()
if "avx512f" not in cpuinfo:
    print("check-disasm: this CPU has no AVX-512; the expectations below are for the x86-64 machines shimmy targets")
# The VNNI kernels exist when Package.swift compiled them in (see KernelSet.best): on a CPU with AVX-512 VNNI unless
# SHIMMY_VNNI=0, or anywhere with SHIMMY_VNNI=1.
native = os.environ.get("SHIMMY_TARGET_CPU", "native") == "native"  # Package.swift's defaults, host flags if native
vnni = os.environ.get("SHIMMY_VNNI", "1" if native and " avx512_vnni" in cpuinfo else "0") == "1"
if not vnni:
    KERNELS = [k for k in KERNELS if "VNNI" not in k[1]]
# The GFNI nibble split likewise (SHIMMY_GFNI in Package.swift): without it the Q4_1 tiles split with vpand, a shift
# and vinserti128, the Q4_0 mat-vec with a shift and vpand.
gfni = os.environ.get("SHIMMY_GFNI", "1" if native and " gfni" in cpuinfo else "0") == "1"
if not gfni:
    KERNELS = [(prefix, what, [op for op in required if not op.startswith("vgf2p8affineqb")],
                [op for op in forbidden if op != "vinserti128"]) for prefix, what, required, forbidden in KERNELS]
for prefix, what, required, forbidden in KERNELS:
    bodies = {name: body for name, body in functions.items() if name.startswith(prefix)}
    if not bodies:
        failures.append(f"{what}: no function named {prefix}* in {binary}")
        continue
    ops = set()
    wide = set()  # mnemonics seen with a 512-bit operand
    for name, body in bodies.items():
        for instruction in body:
            words = instruction.split()
            if words[:1] == ["{vex}"]:  # the VEX (AVX-VNNI) encoding of an instruction
                words = words[1:]
            mnemonic = words[0] if words else ""
            ops.add(mnemonic)
            if "%zmm" in instruction:
                wide.add(mnemonic)
            if mnemonic == "call":
                target = instruction.split("<", 1)[-1].rstrip(">")
                # thunks call their specialization; CALLS names the calls a kernel makes on purpose
                allowed = [prefix] + CALLS.get(prefix, [])
                if target.startswith("$s") and not any(target.startswith(p) for p in allowed):
                    failure = f"{what}: {name[:70]}… calls the Swift function {target[:90]}"
                    if failure not in failures:
                        failures.append(failure)
        ops.discard("")
    for op in required:
        if op.endswith("/zmm"):  # on 512-bit registers
            if not any(mnemonic.startswith(op[:-4]) for mnemonic in wide):
                failures.append(f"{what}: expected {op[:-4]} on zmm registers, absent")
        elif not any(mnemonic.startswith(op) for mnemonic in ops):
            failures.append(f"{what}: expected {op}, absent ({len(bodies)} functions named {prefix}*)")
    for op in forbidden:
        if op in ops:
            failures.append(f"{what}: {op} present, where the kernel was written to avoid it")

if failures:
    print("check-disasm: FAIL")
    for failure in failures:
        print("  " + failure)
    sys.exit(1)
print(f"check-disasm: ok ({len(KERNELS)} kernels: no Swift calls, expected instructions present)")
