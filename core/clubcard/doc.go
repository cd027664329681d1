// Package clubcard reads and builds clubcard filters, the CRLite revocation
// filters Mozilla publishes and upki caches, in the C2SP upki-revocation
// format (v4) and the older clubcard-crlite bincode format (v3).
//
// # Format
//
// A v4 file ("Filter file format" in the C2SP spec) is, in big-endian: the
// version 4 and a zero byte; the coverage (uint16 count of 48-byte entries:
// CT log id, inclusive low and high SCT timestamps in ms); the per-issuer
// index (uint32 count of entries sorted by issuer SPKI SHA-256, each with
// approx_m, approx_rank, approx_offset, exact_m, exact_offset, inverted and
// a uint16-counted list of 1-255 byte exception serials, "Per-issuer
// index"); the approximate filter (uint8 count of bit columns, each a
// uint32 word count and big-endian uint64 words, "Approximate filter"); and
// the exact filter (one such column, "Exact filter"). Bit i of a column is
// bit i%64 of word i/64; bits past the last word are zero, so writers omit
// trailing zero words and the columns form a staircase: blocks are laid out
// by descending rank and column i only spans blocks of rank > i.
//
// Version 3 carries the same data as bincode 1.x (little-endian, u64
// lengths, issuer fields ordered approx_m, exact_m, rank, approx_offset,
// exact_offset, inverted, exceptions); see v3.go. Its usize fields are
// refused above 2^32 - 1 (v4 carries them as uint32; no real filter comes
// near), and files above 4 GiB are refused, so every offset fits a uint32.
// Versions 0-2 are the legacy MLBF cascades of core/cascade and are
// refused here.
//
// # Memory
//
// Parse walks the file once, validating every field, and keeps only the
// coverage, the column bounds and each issuer entry's offset in the file
// (4 bytes per issuer): a Block is decoded from the mapped bytes when a
// check needs it (core/cache keeps the blocks of the issuers it meets).
//
// # Query
//
// [Filter.Query] follows step 2 of the spec's "Revocation check procedure":
// not covered unless some SCT falls in a coverage interval of its log; not
// enrolled unless the issuer is in the index (binary search); otherwise the
// clubcard answers for the key SHA-256(issuer_spki_hash || serial). The key
// becomes a GF(2) equation of width W = 4 lanes (as clubcard-crlite hashes
// it): a[j] is the key's j-th little-endian uint64, a[0] |= 1, and the
// starting row is s = a[3] mod max(1, m) + offset. The equation "evaluates"
// against a column as the parity of a AND column bits [s, s+256). A key is
// in the encoded set when the block is non-empty (approx_m > 0), the
// equation for (approx_m, approx_offset) evaluates to 0 on each of the
// first approx_rank approximate columns, the one for (exact_m,
// exact_offset) evaluates to 0 on the exact column, and the serial is not
// an exception; inverted flips the answer. Query hashes on the stack and
// does not allocate.
//
// # Construction
//
// [Build] follows the construction of the clubcard crate (Schanck, "Clubcards
// for the WebPKI", IEEE S&P 2025): per issuer, with R the revoked and U the
// whole universe, an approximate system of m = ⌊1.02·|R|⌋ rows over the
// keys of R, homogeneous, with rank ⌊log2(|U\R|/|R|)⌋ solution columns
// (0 when 2|R| >= |U|) whose free variables are random, so a key outside R
// passes with probability about 2^-rank. The keys that pass (R plus about
// |R| false positives) form the exact system of ⌊1.02·n⌋ rows, right-hand
// side 0 for revoked and 1 otherwise; revoked keys go in first, so only a
// non-revoked key can fail to insert, and those become exceptions. Both are
// banded systems solved by on-the-fly Gaussian elimination (Dillinger and
// Walzer's ribbon, Algorithm 1) and back substitution across all blocks.
// An issuer whose serials are all revoked gets an empty inverted block; one
// with none revoked an empty plain block.
package clubcard
