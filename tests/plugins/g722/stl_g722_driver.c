/* Test driver: "e" reads int16 PCM on stdin and writes one code byte per 2 samples with the STL's
   g722_encode; "d N" reads code bytes and writes int16 PCM with g722_decode in mode N. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "g722.h"

int main(int argc, char **argv) {
  g722_state st;
  short in[2], out[2], code[1];
  unsigned char byte;
  memset(&st, 0, sizeof st);
  if (argc > 1 && argv[1][0] == 'e') {
    g722_reset_encoder(&st);
    while (fread(in, sizeof(short), 2, stdin) == 2) {
      g722_encode(in, code, 2, &st);
      byte = (unsigned char)code[0];
      fwrite(&byte, 1, 1, stdout);
    }
  } else {
    short mode = (short)(argc > 2 ? atoi(argv[2]) : 1);
    g722_reset_decoder(&st);
    while (fread(&byte, 1, 1, stdin) == 1) {
      code[0] = byte;
      g722_decode(code, out, mode, 1, &st);
      fwrite(out, sizeof(short), 2, stdout);
    }
  }
  return 0;
}
