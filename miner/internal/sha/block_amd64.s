//go:build amd64

#include "textflag.h"

// SHA-256 round constants, four to a 16-byte row (row g serves rounds
// 4g..4g+3).
DATA shaK<>+0(SB)/8, $0x71374491428a2f98
DATA shaK<>+8(SB)/8, $0xe9b5dba5b5c0fbcf
DATA shaK<>+16(SB)/8, $0x59f111f13956c25b
DATA shaK<>+24(SB)/8, $0xab1c5ed5923f82a4
DATA shaK<>+32(SB)/8, $0x12835b01d807aa98
DATA shaK<>+40(SB)/8, $0x550c7dc3243185be
DATA shaK<>+48(SB)/8, $0x80deb1fe72be5d74
DATA shaK<>+56(SB)/8, $0xc19bf1749bdc06a7
DATA shaK<>+64(SB)/8, $0xefbe4786e49b69c1
DATA shaK<>+72(SB)/8, $0x240ca1cc0fc19dc6
DATA shaK<>+80(SB)/8, $0x4a7484aa2de92c6f
DATA shaK<>+88(SB)/8, $0x76f988da5cb0a9dc
DATA shaK<>+96(SB)/8, $0xa831c66d983e5152
DATA shaK<>+104(SB)/8, $0xbf597fc7b00327c8
DATA shaK<>+112(SB)/8, $0xd5a79147c6e00bf3
DATA shaK<>+120(SB)/8, $0x1429296706ca6351
DATA shaK<>+128(SB)/8, $0x2e1b213827b70a85
DATA shaK<>+136(SB)/8, $0x53380d134d2c6dfc
DATA shaK<>+144(SB)/8, $0x766a0abb650a7354
DATA shaK<>+152(SB)/8, $0x92722c8581c2c92e
DATA shaK<>+160(SB)/8, $0xa81a664ba2bfe8a1
DATA shaK<>+168(SB)/8, $0xc76c51a3c24b8b70
DATA shaK<>+176(SB)/8, $0xd6990624d192e819
DATA shaK<>+184(SB)/8, $0x106aa070f40e3585
DATA shaK<>+192(SB)/8, $0x1e376c0819a4c116
DATA shaK<>+200(SB)/8, $0x34b0bcb52748774c
DATA shaK<>+208(SB)/8, $0x4ed8aa4a391c0cb3
DATA shaK<>+216(SB)/8, $0x682e6ff35b9cca4f
DATA shaK<>+224(SB)/8, $0x78a5636f748f82ee
DATA shaK<>+232(SB)/8, $0x8cc7020884c87814
DATA shaK<>+240(SB)/8, $0xa4506ceb90befffa
DATA shaK<>+248(SB)/8, $0xc67178f2bef9a3f7
GLOBL shaK<>(SB), RODATA, $256

// bswapMask turns the block's big-endian words into little-endian lanes.
DATA bswapMask<>+0(SB)/8, $0x0405060700010203
DATA bswapMask<>+8(SB)/8, $0x0c0d0e0f08090a0b
GLOBL bswapMask<>(SB), RODATA, $16

// Register use: X1 holds state words ABEF and X2 CDGH, the layout the SHA
// instructions work in; X3-X6 hold four message quads in rotation; X0 is the
// message quad plus its constants, the implicit operand of SHA256RNDS2; X7
// is scratch; X8 the byte-swap mask; X9/X10 the state before the block.

// QROUND runs rounds 4g..4g+3 with message quad M and constant row K.
#define QROUND(M, K) \
	MOVOU       M, X0; \
	PADDD       K(AX), X0; \
	SHA256RNDS2 X0, X1, X2; \
	PSHUFD      $0x0e, X0, X0; \
	SHA256RNDS2 X0, X2, X1

// NEXTQ finishes the quad after CUR in NEXT (already holding W[t-16] plus
// sigma0(W[t-15]) from SHA256MSG1): it adds W[t-7], taken from PREV and CUR,
// then sigma1 of the two latest words with SHA256MSG2.
#define NEXTQ(CUR, PREV, NEXT) \
	MOVOU      CUR, X7; \
	PALIGNR    $4, PREV, X7; \
	PADDD      X7, NEXT; \
	SHA256MSG2 CUR, NEXT

// LOADQ loads message quad n of the block into M.
#define LOADQ(n, M) \
	MOVOU  n(SI), M; \
	PSHUFB X8, M

// func blockSHANI(h *[8]uint32, p *[64]byte)
TEXT ·blockSHANI(SB), NOSPLIT, $0-16
	MOVQ h+0(FP), DI
	MOVQ p+8(FP), SI
	LEAQ shaK<>(SB), AX
	MOVOU bswapMask<>(SB), X8

	// State words a..h to ABEF (X1) and CDGH (X2).
	MOVOU   (DI), X1          // d c b a
	MOVOU   16(DI), X2        // h g f e
	PSHUFD  $0xb1, X1, X1     // c d a b
	PSHUFD  $0x1b, X2, X2     // e f g h
	MOVOU   X1, X7
	PALIGNR $8, X2, X1        // a b e f
	PBLENDW $0xf0, X7, X2     // c d g h
	MOVOU   X1, X9
	MOVOU   X2, X10

	LOADQ(0, X3)
	QROUND(X3, 0)
	LOADQ(16, X4)
	QROUND(X4, 16)
	SHA256MSG1 X4, X3
	LOADQ(32, X5)
	QROUND(X5, 32)
	SHA256MSG1 X5, X4
	LOADQ(48, X6)
	QROUND(X6, 48)
	NEXTQ(X6, X5, X3)
	SHA256MSG1 X6, X5

	QROUND(X3, 64)
	NEXTQ(X3, X6, X4)
	SHA256MSG1 X3, X6
	QROUND(X4, 80)
	NEXTQ(X4, X3, X5)
	SHA256MSG1 X4, X3
	QROUND(X5, 96)
	NEXTQ(X5, X4, X6)
	SHA256MSG1 X5, X4
	QROUND(X6, 112)
	NEXTQ(X6, X5, X3)
	SHA256MSG1 X6, X5

	QROUND(X3, 128)
	NEXTQ(X3, X6, X4)
	SHA256MSG1 X3, X6
	QROUND(X4, 144)
	NEXTQ(X4, X3, X5)
	SHA256MSG1 X4, X3
	QROUND(X5, 160)
	NEXTQ(X5, X4, X6)
	SHA256MSG1 X5, X4
	QROUND(X6, 176)
	NEXTQ(X6, X5, X3)
	SHA256MSG1 X6, X5

	QROUND(X3, 192)
	NEXTQ(X3, X6, X4)
	SHA256MSG1 X3, X6
	QROUND(X4, 208)
	NEXTQ(X4, X3, X5)
	QROUND(X5, 224)
	NEXTQ(X5, X4, X6)
	QROUND(X6, 240)

	PADDD X9, X1
	PADDD X10, X2

	// ABEF/CDGH back to a..h.
	PSHUFD  $0x1b, X1, X1     // f e b a
	PSHUFD  $0xb1, X2, X2     // d c h g
	MOVOU   X1, X7
	PBLENDW $0xf0, X2, X1     // d c b a
	PALIGNR $8, X7, X2        // h g f e
	MOVOU   X1, (DI)
	MOVOU   X2, 16(DI)
	RET

// Constants of the second SHA-256 of a header hash: the initial state in
// the ABEF/CDGH layout of the SHA instructions, and the message quads W8-W11
// and W12-W15 of a 32-byte message (0x80 padding, bit length 256).
DATA ivABEF<>+0(SB)/8, $0x510e527f9b05688c
DATA ivABEF<>+8(SB)/8, $0x6a09e667bb67ae85
GLOBL ivABEF<>(SB), RODATA, $16
DATA ivCDGH<>+0(SB)/8, $0x1f83d9ab5be0cd19
DATA ivCDGH<>+8(SB)/8, $0x3c6ef372a54ff53a
GLOBL ivCDGH<>(SB), RODATA, $16
DATA pad2<>+0(SB)/8, $0x0000000080000000
DATA pad2<>+8(SB)/8, $0x0000000000000000
GLOBL pad2<>(SB), RODATA, $16
DATA len2<>+0(SB)/8, $0x0000000000000000
DATA len2<>+8(SB)/8, $0x0000010000000000
GLOBL len2<>(SB), RODATA, $16

// QR runs four rounds of one lane: message quad M plus constant row K, state
// S0 (ABEF) and S1 (CDGH). X0 is SHA256RNDS2's implicit operand.
#define QR(M, K, S0, S1) \
	MOVOU       M, X0; \
	PADDD       K(AX), X0; \
	SHA256RNDS2 X0, S0, S1; \
	PSHUFD      $0x0e, X0, X0; \
	SHA256RNDS2 X0, S1, S0

// NQ finishes the message quad after CUR in NEXT: W[t-7] from PREV and CUR,
// then SHA256MSG2. T is the lane's scratch register.
#define NQ(CUR, PREV, NEXT, T) \
	MOVOU      CUR, T; \
	PALIGNR    $4, PREV, T; \
	PADDD      T, NEXT; \
	SHA256MSG2 CUR, NEXT

// LOADQP loads message quad at offset n of the block at P into M.
#define LOADQP(n, P, M) \
	MOVOU  n(P), M; \
	PSHUFB X8, M

// TOSTATE turns words a..h (dwords of LO: a b c d, HI: e f g h) into the
// ABEF (LO) and CDGH (HI) layout, using T as scratch.
#define TOSTATE(LO, HI, T) \
	PSHUFD  $0xb1, LO, LO; \
	PSHUFD  $0x1b, HI, HI; \
	MOVOU   LO, T; \
	PALIGNR $8, HI, LO; \
	PBLENDW $0xf0, T, HI

// FROMSTATE is the inverse of TOSTATE.
#define FROMSTATE(LO, HI, T) \
	PSHUFD  $0x1b, LO, LO; \
	PSHUFD  $0xb1, HI, HI; \
	MOVOU   LO, T; \
	PBLENDW $0xf0, HI, LO; \
	PALIGNR $8, T, HI

// func doubleHash2SHANI(mid *[8]uint32, tails *[2][64]byte, out *[2][8]uint32)
//
// Lane A hashes tails[0], lane B tails[1], both from the midstate mid; each
// lane's first digest becomes its second message in registers.
TEXT ·doubleHash2SHANI(SB), NOSPLIT, $0-24
	MOVQ  mid+0(FP), DI
	MOVQ  tails+8(FP), SI
	LEAQ  64(SI), DX
	MOVQ  out+16(FP), BX
	LEAQ  shaK<>(SB), AX
	MOVOU bswapMask<>(SB), X8

	// Both lanes start from the midstate.
	MOVOU (DI), X1
	MOVOU 16(DI), X2
	TOSTATE(X1, X2, X7)
	MOVOU X1, X9
	MOVOU X2, X10

	LOADQP(0, SI, X3)
	LOADQP(0, DX, X11)
	QR(X3, 0, X1, X2)
	QR(X11, 0, X9, X10)
	LOADQP(16, SI, X4)
	LOADQP(16, DX, X12)
	QR(X4, 16, X1, X2)
	QR(X12, 16, X9, X10)
	SHA256MSG1 X4, X3
	SHA256MSG1 X12, X11
	LOADQP(32, SI, X5)
	LOADQP(32, DX, X13)
	QR(X5, 32, X1, X2)
	QR(X13, 32, X9, X10)
	SHA256MSG1 X5, X4
	SHA256MSG1 X13, X12
	LOADQP(48, SI, X6)
	LOADQP(48, DX, X14)
	QR(X6, 48, X1, X2)
	QR(X14, 48, X9, X10)
	NQ(X6, X5, X3, X7)
	NQ(X14, X13, X11, X15)
	SHA256MSG1 X6, X5
	SHA256MSG1 X14, X13
	QR(X3, 64, X1, X2)
	QR(X11, 64, X9, X10)
	NQ(X3, X6, X4, X7)
	NQ(X11, X14, X12, X15)
	SHA256MSG1 X3, X6
	SHA256MSG1 X11, X14
	QR(X4, 80, X1, X2)
	QR(X12, 80, X9, X10)
	NQ(X4, X3, X5, X7)
	NQ(X12, X11, X13, X15)
	SHA256MSG1 X4, X3
	SHA256MSG1 X12, X11
	QR(X5, 96, X1, X2)
	QR(X13, 96, X9, X10)
	NQ(X5, X4, X6, X7)
	NQ(X13, X12, X14, X15)
	SHA256MSG1 X5, X4
	SHA256MSG1 X13, X12
	QR(X6, 112, X1, X2)
	QR(X14, 112, X9, X10)
	NQ(X6, X5, X3, X7)
	NQ(X14, X13, X11, X15)
	SHA256MSG1 X6, X5
	SHA256MSG1 X14, X13
	QR(X3, 128, X1, X2)
	QR(X11, 128, X9, X10)
	NQ(X3, X6, X4, X7)
	NQ(X11, X14, X12, X15)
	SHA256MSG1 X3, X6
	SHA256MSG1 X11, X14
	QR(X4, 144, X1, X2)
	QR(X12, 144, X9, X10)
	NQ(X4, X3, X5, X7)
	NQ(X12, X11, X13, X15)
	SHA256MSG1 X4, X3
	SHA256MSG1 X12, X11
	QR(X5, 160, X1, X2)
	QR(X13, 160, X9, X10)
	NQ(X5, X4, X6, X7)
	NQ(X13, X12, X14, X15)
	SHA256MSG1 X5, X4
	SHA256MSG1 X13, X12
	QR(X6, 176, X1, X2)
	QR(X14, 176, X9, X10)
	NQ(X6, X5, X3, X7)
	NQ(X14, X13, X11, X15)
	SHA256MSG1 X6, X5
	SHA256MSG1 X14, X13
	QR(X3, 192, X1, X2)
	QR(X11, 192, X9, X10)
	NQ(X3, X6, X4, X7)
	NQ(X11, X14, X12, X15)
	SHA256MSG1 X3, X6
	SHA256MSG1 X11, X14
	QR(X4, 208, X1, X2)
	QR(X12, 208, X9, X10)
	NQ(X4, X3, X5, X7)
	NQ(X12, X11, X13, X15)
	QR(X5, 224, X1, X2)
	QR(X13, 224, X9, X10)
	NQ(X5, X4, X6, X7)
	NQ(X13, X12, X14, X15)
	QR(X6, 240, X1, X2)
	QR(X14, 240, X9, X10)

	// Add the midstate (re-read and reshaped; X0, X7, X8 are free now).
	MOVOU (DI), X7
	MOVOU 16(DI), X8
	TOSTATE(X7, X8, X0)
	PADDD X7, X1
	PADDD X8, X2
	PADDD X7, X9
	PADDD X8, X10

	// The first digests, back in word order, are the second messages'
	// W0-W7; W8-W15 are padding constants. Both lanes restart from the IV.
	FROMSTATE(X1, X2, X7)
	FROMSTATE(X9, X10, X15)
	MOVOU X1, X3
	MOVOU X2, X4
	MOVOU X9, X11
	MOVOU X10, X12
	MOVOU pad2<>(SB), X5
	MOVOU len2<>(SB), X6
	MOVOU X5, X13
	MOVOU X6, X14
	MOVOU ivABEF<>(SB), X1
	MOVOU ivCDGH<>(SB), X2
	MOVOU X1, X9
	MOVOU X2, X10

	QR(X3, 0, X1, X2)
	QR(X11, 0, X9, X10)
	QR(X4, 16, X1, X2)
	QR(X12, 16, X9, X10)
	SHA256MSG1 X4, X3
	SHA256MSG1 X12, X11
	QR(X5, 32, X1, X2)
	QR(X13, 32, X9, X10)
	SHA256MSG1 X5, X4
	SHA256MSG1 X13, X12
	QR(X6, 48, X1, X2)
	QR(X14, 48, X9, X10)
	NQ(X6, X5, X3, X7)
	NQ(X14, X13, X11, X15)
	SHA256MSG1 X6, X5
	SHA256MSG1 X14, X13
	QR(X3, 64, X1, X2)
	QR(X11, 64, X9, X10)
	NQ(X3, X6, X4, X7)
	NQ(X11, X14, X12, X15)
	SHA256MSG1 X3, X6
	SHA256MSG1 X11, X14
	QR(X4, 80, X1, X2)
	QR(X12, 80, X9, X10)
	NQ(X4, X3, X5, X7)
	NQ(X12, X11, X13, X15)
	SHA256MSG1 X4, X3
	SHA256MSG1 X12, X11
	QR(X5, 96, X1, X2)
	QR(X13, 96, X9, X10)
	NQ(X5, X4, X6, X7)
	NQ(X13, X12, X14, X15)
	SHA256MSG1 X5, X4
	SHA256MSG1 X13, X12
	QR(X6, 112, X1, X2)
	QR(X14, 112, X9, X10)
	NQ(X6, X5, X3, X7)
	NQ(X14, X13, X11, X15)
	SHA256MSG1 X6, X5
	SHA256MSG1 X14, X13
	QR(X3, 128, X1, X2)
	QR(X11, 128, X9, X10)
	NQ(X3, X6, X4, X7)
	NQ(X11, X14, X12, X15)
	SHA256MSG1 X3, X6
	SHA256MSG1 X11, X14
	QR(X4, 144, X1, X2)
	QR(X12, 144, X9, X10)
	NQ(X4, X3, X5, X7)
	NQ(X12, X11, X13, X15)
	SHA256MSG1 X4, X3
	SHA256MSG1 X12, X11
	QR(X5, 160, X1, X2)
	QR(X13, 160, X9, X10)
	NQ(X5, X4, X6, X7)
	NQ(X13, X12, X14, X15)
	SHA256MSG1 X5, X4
	SHA256MSG1 X13, X12
	QR(X6, 176, X1, X2)
	QR(X14, 176, X9, X10)
	NQ(X6, X5, X3, X7)
	NQ(X14, X13, X11, X15)
	SHA256MSG1 X6, X5
	SHA256MSG1 X14, X13
	QR(X3, 192, X1, X2)
	QR(X11, 192, X9, X10)
	NQ(X3, X6, X4, X7)
	NQ(X11, X14, X12, X15)
	SHA256MSG1 X3, X6
	SHA256MSG1 X11, X14
	QR(X4, 208, X1, X2)
	QR(X12, 208, X9, X10)
	NQ(X4, X3, X5, X7)
	NQ(X12, X11, X13, X15)
	QR(X5, 224, X1, X2)
	QR(X13, 224, X9, X10)
	NQ(X5, X4, X6, X7)
	NQ(X13, X12, X14, X15)
	QR(X6, 240, X1, X2)
	QR(X14, 240, X9, X10)

	MOVOU ivABEF<>(SB), X7
	MOVOU ivCDGH<>(SB), X8
	PADDD X7, X1
	PADDD X8, X2
	PADDD X7, X9
	PADDD X8, X10
	FROMSTATE(X1, X2, X7)
	FROMSTATE(X9, X10, X15)
	MOVOU X1, (BX)
	MOVOU X2, 16(BX)
	MOVOU X9, 32(BX)
	MOVOU X10, 48(BX)
	RET

