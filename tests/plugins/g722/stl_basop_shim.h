/* Minimal stand-in for the STL's "stl.h" (the ETSI/ITU basic operators, src/basop, which the
   shared copy of the STL lacks), so the G.722 C code compiles in a test.  Each operator follows
   the STL2005 basop32.c definition: 16-bit results saturate to [-32768, 32767], 32-bit ones to
   [-2^31, 2^31 - 1]; shifts by negative amounts reverse direction.  Test-only; not project code. */
#ifndef STL_H
#define STL_H
#include <stdint.h>
typedef short Word16;
typedef int Word32;
typedef int Flag;
#define MAX_16 ((Word16)0x7fff)
#define MIN_16 ((Word16)0x8000)
#define MAX_32 ((Word32)0x7fffffffL)
#define MIN_32 ((Word32)0x80000000L)
#define SWITCH switch
#define WHILE while
#define ELSE else
#define BREAK break
#define IF if
#define FOR for
static inline Word16 sat16(long long v) { return v > 32767 ? 32767 : (v < -32768 ? -32768 : (Word16)v); }
static inline Word32 sat32(long long v) { return v > MAX_32 ? MAX_32 : (v < MIN_32 ? MIN_32 : (Word32)v); }
static inline Word16 add(Word16 a, Word16 b) { return sat16((long long)a + b); }
static inline Word16 sub(Word16 a, Word16 b) { return sat16((long long)a - b); }
static inline Word16 mult(Word16 a, Word16 b) { return sat16(((long long)a * b) >> 15); }
static inline Word16 negate(Word16 a) { return a == MIN_16 ? MAX_16 : (Word16)-a; }
static inline Word16 s_and(Word16 a, Word16 b) { return (Word16)(a & b); }
static inline Word16 shr(Word16 a, Word16 n);
static inline Word16 shl(Word16 a, Word16 n) {
  if (n < 0) return shr(a, (Word16)-n);
  if (n > 15) return a ? (a > 0 ? MAX_16 : MIN_16) : 0;
  return sat16((long long)a * (1LL << n));
}
static inline Word16 shr(Word16 a, Word16 n) {
  if (n < 0) return shl(a, (Word16)-n);
  if (n > 15) return a < 0 ? -1 : 0;
  return (Word16)(a >> n);
}
static inline Word16 lshr(Word16 a, Word16 n) { return (Word16)((unsigned short)a >> n); }
static inline Word32 L_add(Word32 a, Word32 b) { return sat32((long long)a + b); }
static inline Word32 L_sub(Word32 a, Word32 b) { return sat32((long long)a - b); }
static inline Word32 L_mult0(Word16 a, Word16 b) { return (Word32)a * b; }
static inline Word32 L_mac0(Word32 acc, Word16 a, Word16 b) { return L_add(acc, L_mult0(a, b)); }
static inline Word32 L_shr(Word32 a, Word16 n) { return n > 31 ? (a < 0 ? -1 : 0) : (a >> n); }
static inline Word32 L_shl(Word32 a, Word16 n) { return sat32((long long)a * (1LL << n)); }
static inline Word16 extract_h(Word32 a) { return (Word16)(a >> 16); }
#endif
