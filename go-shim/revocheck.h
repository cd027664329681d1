/*
 * revocheck.h — the C ABI of librevocheck.so.
 *
 * This header is hand-written and is the contract; the header cgo generates
 * (_cgo_export.h / librevocheck.h) is an implementation detail and is never
 * installed. Every adapter (OpenSSL provider, NSS module, GnuTLS hook) and any
 * C program talks to the Go core only through these functions.
 *
 * Rules that hold for every function:
 *  - Thread-safe. A handle may be used from many threads at once.
 *  - No Go panic crosses this boundary: it is recovered and returned as
 *    REVOCHECK_ERR_INTERNAL.
 *  - Pointers passed in are borrowed for the duration of the call only;
 *    nothing is retained and nothing is allocated for the caller.
 *  - Never call any of these after fork() in a child of a process that has
 *    already called into this library: the Go runtime does not survive fork
 *    and the call would hang. Adapters guard this with a pid check.
 */
#ifndef REVOCHECK_H
#define REVOCHECK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the exported API; everything else in the library is hidden. */
#if defined(__GNUC__) && __GNUC__ >= 4
#define REVOCHECK_API __attribute__((visibility("default")))
#else
#define REVOCHECK_API
#endif

/* Bumped on any incompatible change of this header. */
#define REVOCHECK_ABI_VERSION 1

/* Outcome of one check. Values are stable ABI. */
typedef enum {
	REVOCHECK_OUTCOME_REVOKED = 1,      /* a covering filter or CRL set says revoked */
	REVOCHECK_OUTCOME_NOT_REVOKED = 2,  /* covered and not revoked */
	REVOCHECK_OUTCOME_NOT_ENROLLED = 3, /* covered, but the issuer is not in the data */
	REVOCHECK_OUTCOME_NOT_COVERED = 4,  /* no data covers this certificate (e.g. no SCTs) */
	REVOCHECK_OUTCOME_NO_DATA = 5,      /* cache missing or unreadable */
	REVOCHECK_OUTCOME_STALE = 6,        /* newest data older than the configured maximum age */
	REVOCHECK_OUTCOME_ERROR = 7,        /* bad input or internal error; see revocheck_errmsg */
	REVOCHECK_OUTCOME_CT_NONCOMPLIANT = 8 /* not revoked, but the embedded SCTs do not satisfy the
	                                       * CT policy; only with policy.ct = enforce (denied) or
	                                       * report (allowed) */
} revocheck_outcome;

/* The highest outcome value: a reader of outcomes (a daemon reply) accepts
 * REVOCHECK_OUTCOME_REVOKED..REVOCHECK_OUTCOME_LAST. */
#define REVOCHECK_OUTCOME_LAST REVOCHECK_OUTCOME_CT_NONCOMPLIANT

/* Return codes of the functions below. */
#define REVOCHECK_OK 0
#define REVOCHECK_ERR_BADHANDLE -1 /* unknown or closed handle */
#define REVOCHECK_ERR_INVALID -2   /* bad argument (NULL pointer, bad DER, ...) */
#define REVOCHECK_ERR_CONFIG -3    /* configuration could not be loaded */
#define REVOCHECK_ERR_INTERNAL -4  /* recovered panic or other internal failure */
#define REVOCHECK_ERR_RANGE -5     /* output buffer too small (message truncated) */

/* Handles are small positive integers; 0 is never a valid handle. */
typedef int64_t revocheck_handle;

/* One embedded SCT: CT log id and timestamp in ms since the epoch. */
typedef struct {
	uint8_t log_id[32];
	uint64_t timestamp_ms;
} revocheck_sct;

/* Result of a check. Filled by every check function, also on error. */
typedef struct {
	int32_t outcome; /* a revocheck_outcome */
	int32_t allowed; /* 1: the policy allows the connection, 0: deny */
} revocheck_result;

/*
 * The pid of the process in which this library was loaded (and the Go
 * runtime started). Plain C, no Go: safe to call in a forked child, where it
 * differs from getpid() — and then no other function here may be called.
 */
REVOCHECK_API long revocheck_runtime_pid(void);

/* Library version string, e.g. "0.1.0". Static storage; never free it. */
REVOCHECK_API const char *revocheck_version(void);

/* REVOCHECK_ABI_VERSION the library was built with. */
REVOCHECK_API int revocheck_abi_version(void);

/* Stable lowercase name of an outcome: "revoked", "not_revoked",
 * "not_enrolled", "not_covered", "no_data", "stale", "error",
 * "ct_noncompliant"; "unknown" for
 * any other value. Static storage; never free it. */
REVOCHECK_API const char *revocheck_outcome_string(int32_t outcome);

/*
 * Opens a checker.
 *
 * config_path: borrowed, NUL-terminated; NULL means the default search
 *   ($REVOCHECK_CONFIG, /etc/revocheck/config.toml,
 *   $XDG_CONFIG_HOME/revocheck/config.toml; a missing default file is fine).
 * overrides: borrowed, NUL-terminated, may be NULL. "key=value" pairs
 *   separated by ';' or newlines, using the config file's keys, e.g.
 *   "cache-dir=/var/cache/revocheck/revocation;policy.not-covered=deny". Applied after
 *   the file and the environment ($REVOCHECK_CACHE_DIR).
 * out: receives the handle on success.
 *
 * Opening never fails because the cache is missing: checks then answer
 * REVOCHECK_OUTCOME_NO_DATA and the policy decides. The cache is opened
 * lazily and re-opened when a newer index.bin appears.
 * Nor does it fail for a configuration problem (a typo, an unknown key, a
 * bad value, an unreadable config file): every setting that could be read
 * applies, the others keep their defaults, and right after a successful
 * open revocheck_errmsg(*out, ...) describes the problems ("" when none).
 * Returns REVOCHECK_OK or a negative REVOCHECK_ERR_*; on error,
 * revocheck_errmsg(0, ...) describes it.
 */
REVOCHECK_API int revocheck_open(const char *config_path, const char *overrides,
                   revocheck_handle *out);

/* Closes a handle. Returns REVOCHECK_OK or REVOCHECK_ERR_BADHANDLE. */
REVOCHECK_API int revocheck_close(revocheck_handle h);

/*
 * Checks one certificate against its issuer, both DER (borrowed).
 * Extracts the issuer SPKI hash, the serial and the embedded SCTs, consults
 * the cache and applies the policy. The signature is NOT verified here: the
 * caller has already validated the path.
 * Returns REVOCHECK_OK when *res is a decision (any outcome, including
 * no_data/stale), or a negative code (then res->outcome is
 * REVOCHECK_OUTCOME_ERROR and res->allowed follows the error policy).
 */
REVOCHECK_API int revocheck_check_der(revocheck_handle h,
                        const uint8_t *cert, size_t cert_len,
                        const uint8_t *issuer, size_t issuer_len,
                        revocheck_result *res);

/*
 * Checks already-extracted inputs (all borrowed): the issuer's SPKI SHA-256,
 * the serial as DER INTEGER content bytes (leading 0x00 kept), and the SCTs.
 */
REVOCHECK_API int revocheck_check_input(revocheck_handle h,
                          const uint8_t issuer_spki_sha256[32],
                          const uint8_t *serial, size_t serial_len,
                          const revocheck_sct *scts, size_t n_scts,
                          revocheck_result *res);

/*
 * Checks a certificate known only by its issuer's DER Name and its serial
 * (what NSS gives a trust module). Consults only data that is exact for such
 * a query: serial-keyed revocation sets (compiled CRLs), never clubcards,
 * which answer at random for keys outside their universe. Outcome is
 * REVOCHECK_OUTCOME_REVOKED, REVOCHECK_OUTCOME_NOT_REVOKED (a revocation set
 * covers the issuer) or REVOCHECK_OUTCOME_NOT_COVERED.
 * serial: the DER INTEGER content bytes (leading 0x00 kept), exactly; a full
 * DER INTEGER is not stripped here (the NSS module decides which encoding NSS
 * sent, docs/NSS.md "Serial encodings"). A name that the CRL sets give to
 * more than one issuer key answers REVOCHECK_OUTCOME_NOT_COVERED.
 */
REVOCHECK_API int revocheck_check_issuer_serial(revocheck_handle h,
                                  const uint8_t *issuer_name, size_t name_len,
                                  const uint8_t *serial, size_t serial_len,
                                  revocheck_result *res);

/*
 * Copies the last error message of handle h (0: of the last failed
 * revocheck_open in this process) into buf (caller-owned, size bytes),
 * always NUL-terminated when size > 0. Returns REVOCHECK_OK, or
 * REVOCHECK_ERR_RANGE if the message was truncated. An empty string means
 * no error.
 */
REVOCHECK_API int revocheck_errmsg(revocheck_handle h, char *buf, size_t size);

/*
 * The state of handle h in one line, for status reports (`openssl list
 * -providers -verbose`, `revocheck status`): "ready (cache DIR)", or
 * "no revocation data: <why> (cache DIR, <origin>); no-data policy
 * applies". The library decides it from its configuration and its cache;
 * an adapter passes it on and never works it out itself (adapters parse no
 * configuration). *ready (may be NULL) is set to 1 when checks can use
 * revocation data, 0 when the no-data policy answers. buf as for
 * revocheck_errmsg. Returns REVOCHECK_OK, REVOCHECK_ERR_RANGE (truncated)
 * or REVOCHECK_ERR_BADHANDLE.
 */
REVOCHECK_API int revocheck_state(revocheck_handle h, int32_t *ready, char *buf, size_t size);

/*
 * Which data directory handle h uses and where that was decided, for an
 * adapter's messages: "cache DIR, set by this adapter's cache-dir",
 * "cache DIR, from $REVOCHECK_CACHE_DIR", "cache DIR, from cache-dir in
 * FILE:LINE" or "cache DIR, the built-in default". buf as for
 * revocheck_errmsg; returns as revocheck_state.
 */
REVOCHECK_API int revocheck_cache_origin(revocheck_handle h, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* REVOCHECK_H */
