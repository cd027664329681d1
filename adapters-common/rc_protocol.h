/*
 * rc_protocol.h — the check daemon's wire format, defined once.
 *
 * Spoken by the adapters (rc_loader.c to `revocheck daemon`, rc_helper.c to
 * `revocheck check --request`) and by core/checkd (protocol.go). The Go side
 * does not copy these numbers by hand: core/checkd/protocol_test.go reads
 * this file and fails when a Go constant differs from the #define of the
 * same meaning, so a change here that Go does not follow fails the build's
 * tests. Keep every value a plain decimal integer or a string literal (the
 * test reads them as such).
 *
 * One request per message, one reply per request; integers little-endian.
 *
 *   request: magic[4] | kind u8 | 3 zero bytes | len(overrides) u32 |
 *            len(a) u32 | len(b) u32 | len(context) u32 |
 *            overrides | a | b | context
 *     kind RC_PROTO_KIND_DER:           a = certificate DER, b = issuer DER
 *     kind RC_PROTO_KIND_ISSUER_SERIAL: a = issuer Name DER, b = serial
 *     kind RC_PROTO_KIND_STATE:         a, b empty; the reply is followed by
 *       the state line (the daemon only; the helper does not answer it)
 *     kind RC_PROTO_KIND_ISSUERS:       a = certificate DER, b empty; the
 *       reply's count field is the number of candidates for its missing
 *       issuer and the reply is followed by their DER, concatenated (the
 *       daemon only: the helper refuses it)
 *     overrides: the adapter's own settings, "key=value;..." (revocheck_open's
 *       argument), passed through unparsed.
 *     context: what the adapter's process would configure itself from, as
 *       NUL-terminated "name=value" strings: RC_PROTO_CONTEXT_CONFIG (the
 *       adapter's config-file setting), each variable of
 *       RC_PROTO_CONTEXT_ENV read with secure_getenv (none in a setuid
 *       program), and RC_PROTO_CONTEXT_USER_FILE. The daemon or helper
 *       decides from it; the adapter does not interpret it.
 *   reply:   magic[4] | status i32 | outcome i32 | allowed i32
 *     status: 0, or a negative REVOCHECK_ERR_* as the C ABI returns it
 *     (outcome and allowed are the policy's answer either way), or
 *     RC_PROTO_STATUS_REFUSED: not served for that configuration; the
 *     adapter checks in-process instead.
 */
#ifndef RC_PROTOCOL_H
#define RC_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RC_PROTO_REQUEST_MAGIC "RCQ2"
#define RC_PROTO_REPLY_MAGIC "RCA1"

#define RC_PROTO_HEADER_SIZE 24
#define RC_PROTO_OFF_KIND 4
#define RC_PROTO_OFF_OVERRIDES_LEN 8
#define RC_PROTO_OFF_A_LEN 12
#define RC_PROTO_OFF_B_LEN 16
#define RC_PROTO_OFF_CONTEXT_LEN 20

#define RC_PROTO_KIND_DER 1
#define RC_PROTO_KIND_ISSUER_SERIAL 2
/* The state of this configuration (a and b empty): allowed is 1 when checks
 * can use revocation data; the reply is followed by a one-line state of at
 * most RC_PROTO_MAX_STATE_TEXT bytes (not NUL-terminated). */
#define RC_PROTO_KIND_STATE 3
/* Candidates for a's missing issuer among the preloaded intermediates
 * (revocheck_find_issuers): status 0, the count at RC_PROTO_OFF_COUNT (in
 * place of the outcome), allowed 0, then the candidates' DER concatenated,
 * whole certificates only, at most RC_PROTO_MAX_PART bytes. */
#define RC_PROTO_KIND_ISSUERS 4

#define RC_PROTO_REPLY_SIZE 16
#define RC_PROTO_OFF_STATUS 4
#define RC_PROTO_OFF_OUTCOME 8
#define RC_PROTO_OFF_ALLOWED 12
/* RC_PROTO_KIND_ISSUERS replies: the number of certificates that follow. */
#define RC_PROTO_OFF_COUNT 8

#define RC_PROTO_STATUS_OK 0
#define RC_PROTO_STATUS_REFUSED 1

/* Bounds: a and b each, the overrides, the context. */
#define RC_PROTO_MAX_PART 65536
#define RC_PROTO_MAX_OVERRIDES 4096
#define RC_PROTO_MAX_CONTEXT 8192
#define RC_PROTO_MAX_STATE_TEXT 512

/* Context names: the adapter's config-file setting, and the environment
 * variables the configuration loader reads (core/config), space-separated. */
#define RC_PROTO_CONTEXT_CONFIG "config"
/* "1" when this process sees its user config file: below $XDG_CONFIG_HOME
 * RC_PROTO_USER_FILE_XDG, else below $HOME RC_PROTO_USER_FILE_HOME (what
 * the library would read; only the client can see its home directory). */
#define RC_PROTO_CONTEXT_USER_FILE "user-file"
#define RC_PROTO_USER_FILE_XDG "revocheck/config.toml"
#define RC_PROTO_USER_FILE_HOME ".config/revocheck/config.toml"
/* Sent alone when the context did not fit: never served. */
#define RC_PROTO_CONTEXT_INCOMPLETE "incomplete"
#define RC_PROTO_CONTEXT_ENV "REVOCHECK_CONFIG REVOCHECK_CACHE_DIR XDG_CONFIG_HOME HOME"

static inline void rc_proto_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static inline int32_t rc_proto_get_le32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	                 (uint32_t)p[3] << 24);
}

/* Fills a request header for the four parts' lengths. */
static inline void rc_proto_header(uint8_t hdr[RC_PROTO_HEADER_SIZE], uint8_t kind, size_t olen,
                                   size_t alen, size_t blen, size_t clen)
{
	memset(hdr, 0, RC_PROTO_HEADER_SIZE);
	memcpy(hdr, RC_PROTO_REQUEST_MAGIC, 4);
	hdr[RC_PROTO_OFF_KIND] = kind;
	rc_proto_put_le32(hdr + RC_PROTO_OFF_OVERRIDES_LEN, (uint32_t)olen);
	rc_proto_put_le32(hdr + RC_PROTO_OFF_A_LEN, (uint32_t)alen);
	rc_proto_put_le32(hdr + RC_PROTO_OFF_B_LEN, (uint32_t)blen);
	rc_proto_put_le32(hdr + RC_PROTO_OFF_CONTEXT_LEN, (uint32_t)clen);
}

/* The reply fields: 1 when rep is a well-formed reply. */
static inline int rc_proto_reply(const uint8_t *rep, size_t len, int32_t *status, int32_t *outcome,
                                 int32_t *allowed)
{
	if (len != RC_PROTO_REPLY_SIZE || memcmp(rep, RC_PROTO_REPLY_MAGIC, 4) != 0)
		return 0;
	*status = rc_proto_get_le32(rep + RC_PROTO_OFF_STATUS);
	*outcome = rc_proto_get_le32(rep + RC_PROTO_OFF_OUTCOME);
	*allowed = rc_proto_get_le32(rep + RC_PROTO_OFF_ALLOWED);
	return 1;
}

#endif /* RC_PROTOCOL_H */
