/*
 * rc_loader.h — how a C adapter reaches librevocheck.so safely from inside a
 * foreign process (curl, wget, Firefox...). Shared by the OpenSSL provider,
 * the NSS module and the GnuTLS hook; each compiles it in statically with
 * hidden visibility.
 *
 * The rules it enforces (docs/ARCHITECTURE.md, "One Go runtime per process"):
 *  - librevocheck.so is dlopen()ed lazily, on the first check, never at load
 *    or init time: a process that never checks a certificate never starts Go.
 *  - The pid that loaded it is remembered. In a forked child the Go runtime is
 *    dead (a call would hang forever), so the child never calls into Go: it
 *    asks a fresh helper process, `revocheck check --request` (rc_helper.c),
 *    and only when that cannot answer gets the "unavailable" policy.
 *  - A missing library, a failed open or a forked child is logged once
 *    (stderr or syslog) and answered by policy; nothing crashes or hangs.
 *  - The host's stderr is not ours: the states a correctly installed system
 *    passes through (no data yet, stale data, the daemon restarting) are
 *    never printed there but sent to syslog, once per process per state
 *    (rc_notice). Only a misconfiguration or a broken installation prints
 *    one line (rc_log). REVOCHECK_DEBUG prints everything on stderr.
 *  - Before loading the library, the check daemon (`revocheck daemon`; its client is rc_daemon.c) is
 *    asked when its socket exists in a trusted directory: a socket round
 *    trip instead of starting Go in this process, and it works in forked
 *    children too. Each request carries this adapter's settings and the
 *    context it would configure itself from (rc_protocol.h); the daemon
 *    decides whether it serves that configuration. A daemon that is
 *    absent, refuses, or does not answer within RC_DAEMON_TIMEOUT_MS is
 *    skipped and the library answers instead, with the same result.
 *  - No configuration is parsed or decided here: adapter settings are
 *    passed through (revocheck_open's overrides, the request's overrides
 *    and context) and the library or the daemon decides and reports.
 */
#ifndef RC_LOADER_H
#define RC_LOADER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rc_protocol.h"
#include "revocheck.h"

#define RC_PATH_MAX 1024
#define RC_OVERRIDES_MAX 2048

/* Where `revocheck daemon` listens (cmd/revocheck/daemon.go). */
#define RC_DEFAULT_SOCKET "/run/revocheck/check.sock"
/* How long a check waits for the daemon before checking in-process. Once
 * it has not answered in time, this process stops asking it. */
#define RC_DAEMON_TIMEOUT_MS 250
/* How long a forked child waits for its helper process (rc_helper.c),
 * spawn to exit; it is killed then and the unavailable policy applies. */
#define RC_HELPER_TIMEOUT_MS 2000

/* Why a check could not be made (rc_loader.reason). */
enum rc_unavailable {
	RC_AVAILABLE = 0,
	RC_NO_LIBRARY,  /* dlopen or a symbol lookup failed */
	RC_OPEN_FAILED, /* revocheck_open failed (bad config) */
	RC_FORKED       /* loaded by the parent; this is a forked child */
};

/*
 * One per adapter instance; zero-initialise, then rc_loader_init.
 * Fields after `lock` are guarded by it until state is published.
 */
typedef struct rc_loader {
	pthread_mutex_t lock;
	const char *component;            /* static string, e.g. "openssl-provider" */
	char library[RC_PATH_MAX];        /* explicit librevocheck path, or "" */
	char config[RC_PATH_MAX];         /* config file, or "" for the default search */
	char overrides[RC_OVERRIDES_MAX]; /* "key=value;..." passed to revocheck_open */
	int use_syslog;                   /* log to syslog instead of stderr */
	int unavailable_allow;            /* 1: allow when unavailable (default), 0: deny */
	int debug;                        /* REVOCHECK_DEBUG set */
	char socket[RC_PATH_MAX];         /* check daemon socket, or "" for none */
	int daemon;                       /* 0: not decided, 1: ask it, -1: do not */
	pthread_mutex_t conn_lock;        /* guards the kept connection below */
	int conn_fd;                      /* kept connection to the daemon, or -1 */
	unsigned conn_epoch;              /* fork epoch conn_fd was opened in */
	char helper[RC_PATH_MAX];         /* revocheck binary for forked children, "" none */
	char context[RC_PROTO_MAX_CONTEXT]; /* the request's context (rc_protocol.h) */
	size_t context_len;               /* its length */
	int context_built;                /* context was built (once, under lock) */
	int helper_found;                 /* helper was looked for */

	unsigned noted; /* rc_notice states already logged (enum rc_note bits) */

	int state;  /* 0: not tried, 1: ready, -1: unavailable (reason says why) */
	int reason; /* enum rc_unavailable */
	int logged; /* the unavailable line was printed */
	pid_t pid;  /* process that loaded the library */
	void *dl;
	revocheck_handle handle;

	long (*runtime_pid)(void);
	int (*open)(const char *, const char *, revocheck_handle *);
	int (*close)(revocheck_handle);
	int (*check_der)(revocheck_handle, const uint8_t *, size_t, const uint8_t *, size_t,
	                 revocheck_result *);
	int (*check_issuer_serial)(revocheck_handle, const uint8_t *, size_t, const uint8_t *, size_t,
	                           revocheck_result *);
	int (*errmsg)(revocheck_handle, char *, size_t);
	/* Optional (NULL in a library older than this adapter). */
	int (*state_fn)(revocheck_handle, int32_t *, char *, size_t);
	int (*cache_origin)(revocheck_handle, char *, size_t);
	const char *(*outcome_string)(int32_t);
	int (*find_issuers)(revocheck_handle, const uint8_t *, size_t, uint8_t *, size_t, size_t *,
	                    int32_t *);
} rc_loader;

/* Sets the component name and defaults; reads REVOCHECK_DEBUG,
 * REVOCHECK_LIBRARY. Does not load anything. */
void rc_loader_init(rc_loader *l, const char *component);

/* Setters copy their argument (NULL or "" clears); call before the first check. */
void rc_loader_set_library(rc_loader *l, const char *path);
void rc_loader_set_config(rc_loader *l, const char *path);
/* The check daemon's socket; NULL, "" or "none": never ask a daemon. */
void rc_loader_set_socket(rc_loader *l, const char *path);
/* Appends "key=value" to the overrides passed to revocheck_open; the key
 * "socket" sets the daemon socket instead. */
void rc_loader_add_override(rc_loader *l, const char *key, const char *value);

/*
 * Checks cert (DER, borrowed) against its issuer (DER, borrowed).
 * Returns 1 when the library answered (*res is its decision), 0 when it is
 * unavailable (*res is {NO_DATA, unavailable policy}). Never blocks on a
 * forked child's dead Go runtime.
 */
int rc_check_der(rc_loader *l, const uint8_t *cert, size_t cert_len, const uint8_t *issuer,
                 size_t issuer_len, revocheck_result *res);

/* Same, for an issuer Name (DER) + serial, as NSS asks. */
int rc_check_issuer_serial(rc_loader *l, const uint8_t *issuer_name, size_t name_len,
                           const uint8_t *serial, size_t serial_len, revocheck_result *res);

/* Candidates for cert's missing issuer (revocheck_find_issuers), from the check
 * daemon first, else the library; a forked child without a daemon gets none.
 * Returns the number of certificates written into buf as concatenated DER
 * (*len bytes, at most size), 0 when none or unavailable: the caller then
 * proceeds exactly as without revocheck. Pass RC_PROTO_MAX_PART bytes: the daemon
 * sends whole certificates up to that bound, and 16 real CA certificates
 * (1-2 KB each) fit; an answer larger than size is none, never a part. */
int rc_find_issuers(rc_loader *l, const unsigned char *cert, size_t cert_len,
                    unsigned char *buf, size_t size, size_t *len);

/*
 * The adapter's state in one line, for status reports (`openssl list
 * -providers -verbose`): decided by the check daemon (it serves this
 * configuration: "ready (asking the check daemon at ...)") or by the
 * library (revocheck_state: "ready (cache DIR)", "no revocation data:
 * ..."), never by reading configuration here. A status query is a use:
 * the library is loaded for it when the daemon does not serve us.
 * Returns 1 when checks can work.
 */
int rc_state(rc_loader *l, char *msg, size_t size);

/*
 * Asks a fresh `revocheck check --request` process (kind 1: a = cert DER,
 * b = issuer DER; kind 2: a = issuer Name DER, b = serial; all borrowed).
 * For forked children only: never touches Go. Returns 1 with *res set when
 * it answered within RC_HELPER_TIMEOUT_MS; 0 otherwise with *why (static
 * string) saying why. Used by rc_check_*; exposed for rc_loader.c only.
 */
int rc_helper_check(rc_loader *l, uint8_t kind, const uint8_t *a, size_t alen, const uint8_t *b,
                    size_t blen, revocheck_result *res, const char **why);

/* The request context (rc_protocol.h), built on first use; the pointer
 * stays valid for the loader's life. */
void rc_loader_context(rc_loader *l, const char **ctx, size_t *len);

/* Human name of an outcome; works without the library loaded. */
const char *rc_outcome_name(int32_t outcome);

/* Logs one line "revocheck (<component>): <message>" to stderr or syslog:
 * for misconfigurations and broken installations only. */
void rc_log(rc_loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Normal states, logged by rc_notice. */
enum rc_note {
	RC_NOTE_NO_DATA = 1 << 0, /* no revocation data yet */
	RC_NOTE_STALE = 1 << 1,   /* data older than max-age */
	RC_NOTE_ERROR = 1 << 2,   /* the library answered "error" */
	RC_NOTE_DAEMON = 1 << 3,  /* the check daemon did not answer in time */
	RC_NOTE_STATUS = 1 << 4,  /* a status query found no data */
	RC_NOTE_CT = 1 << 5       /* policy.ct = report: a certificate failed the CT policy */
};

/* Logs "<component>: <message>" to syslog (LOG_USER | LOG_WARNING, ident
 * "revocheck"; sent to /dev/log directly, so the host's own openlog() ident
 * is left alone; $REVOCHECK_LOG_SOCKET, read with secure_getenv, names
 * another socket for tests) the first time this process meets state; never
 * on stderr unless REVOCHECK_DEBUG is set. */
void rc_notice(rc_loader *l, unsigned state, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Where this adapter's cache comes from, in words, for messages, as the
 * library reports it (revocheck_cache_origin), or the daemon's socket when
 * the daemon answers; nothing is worked out here. */
void rc_cache_source(rc_loader *l, char *buf, size_t size);

/* Logs only when REVOCHECK_DEBUG is set. */
void rc_debug(rc_loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Closes the handle if this process opened it (not in a forked child).
 * The library itself stays mapped: Go c-shared libraries cannot be unloaded. */
void rc_loader_shutdown(rc_loader *l);

#endif /* RC_LOADER_H */
