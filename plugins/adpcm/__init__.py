"""IMA-ADPCM: raw nibble streams and WAV (format tag 0x0011)."""
