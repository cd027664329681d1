/*
 * nssrc.h — internals of the revocheck NSS PKCS#11 trust module
 * (libnssrevocheck.so). Only C_GetFunctionList is exported; every other
 * symbol is hidden (-fvisibility=hidden plus nssrevocheck.map).
 */
#ifndef NSSRC_H
#define NSSRC_H

#include <pkcs11.h>
#include <pkcs11n.h>

#include <pthread.h>

#include "rc_loader.h"

#ifndef REVOCHECK_VERSION
#define REVOCHECK_VERSION "0.0.0"
#endif

#define NSSRC_SLOT_ID 1
#define NSSRC_MAX_ISSUER 65536 /* a DER Name larger than this is never ours */
#define NSSRC_MAX_SERIAL 128   /* RFC 5280 allows 20 octets; be generous */

/* A trust object handed out by C_FindObjects: a revoked (issuer, serial)
 * as the caller asked for it (the serial in the encoding it used). Kept in a
 * small ring so handles stay valid for the C_GetAttributeValue calls that
 * follow a search. */
struct nssrc_object {
	CK_OBJECT_HANDLE handle; /* 0: free slot */
	unsigned char *issuer;   /* owned */
	CK_ULONG issuer_len;
	unsigned char *serial; /* owned */
	CK_ULONG serial_len;
};

#define NSSRC_OBJECTS 256

struct nssrc_session {
	CK_SESSION_HANDLE handle;
	CK_FLAGS flags;
	int finding;              /* C_FindObjectsInit succeeded, not yet Final */
	CK_OBJECT_HANDLE result;  /* 0: no match */
	int delivered;            /* result already returned by C_FindObjects */
};

/*
 * The module's one state struct. Fields are read and written only under
 * `lock` (helpers that expect it end in _inlock), except `loader`, which has
 * its own lock and is called without ours held.
 */
struct nssrc_state {
	pthread_mutex_t lock;
	pthread_cond_t idle;   /* signalled when busy drops to 0 */
	int initialized;
	int busy;              /* checks in flight outside the lock */
	rc_loader loader;
	struct nssrc_session **sessions; /* owned, n_sessions used */
	size_t n_sessions, cap_sessions;
	CK_SESSION_HANDLE next_session;
	struct nssrc_object objects[NSSRC_OBJECTS];
	CK_OBJECT_HANDLE next_object;
};

/* state.c: the one state and the helpers over it. It calls nothing of the
 * entry-point files, which all depend on it (module.c, objects.c,
 * unsupported.c), and functions.c ties the entry points together: the
 * dependencies go one way. */
extern struct nssrc_state nssrc_gl;

/* Registers the fork handlers for nssrc_gl.lock, once per process. */
void nssrc_atfork_once(void);

/* Looks up a session; NULL when the handle is unknown. */
struct nssrc_session *nssrc_session_inlock(CK_SESSION_HANDLE h);

/* Closes (frees) every session. */
void nssrc_sessions_close_inlock(void);

/* The trust object of a handle; NULL when unknown or evicted. */
struct nssrc_object *nssrc_object_inlock(CK_OBJECT_HANDLE h);

/* Returns the handle of the object for (issuer, serial), creating it in the
 * ring (evicting the oldest) if needed; 0 when out of memory. */
CK_OBJECT_HANDLE nssrc_object_add_inlock(const unsigned char *issuer, CK_ULONG issuer_len,
                                         const unsigned char *serial, CK_ULONG serial_len);

/* Frees every trust object. */
void nssrc_objects_clear_inlock(void);

/* Parses the module parameters (modutil -string, or p11-kit's
 * x-init-reserved): "key=value" pairs separated by spaces or ';', values may
 * be double-quoted. Configures l (zero-initialised and rc_loader_init'ed).
 * Returns 0, or -1 when the string is malformed (l is then left with the
 * pairs before the error). params is borrowed. */
int nssrc_parse_params(rc_loader *l, const char *params);

/*
 * The one shape of every entry point but C_Initialize (as p11-kit's):
 *   1. argument checks, without the lock: CKR_ARGUMENTS_BAD and the like;
 *   2. NSSRC_LOCK(): takes the lock, answers CKR_CRYPTOKI_NOT_INITIALIZED;
 *   3. for a session handle, NSSRC_SESSION(h, s): CKR_SESSION_HANDLE_INVALID;
 *   4. the work (a check runs with the lock dropped, see objects.c), then
 *      NSSRC_UNLOCK() before every return.
 */
#define NSSRC_LOCK()                                           \
	do {                                                   \
		pthread_mutex_lock(&nssrc_gl.lock);            \
		if (!nssrc_gl.initialized) {                   \
			pthread_mutex_unlock(&nssrc_gl.lock);  \
			return CKR_CRYPTOKI_NOT_INITIALIZED;   \
		}                                              \
	} while (0)
#define NSSRC_SESSION(h, s)                                    \
	do {                                                   \
		(s) = nssrc_session_inlock(h);                 \
		if ((s) == NULL) {                             \
			pthread_mutex_unlock(&nssrc_gl.lock);  \
			return CKR_SESSION_HANDLE_INVALID;     \
		}                                              \
	} while (0)
#define NSSRC_UNLOCK() pthread_mutex_unlock(&nssrc_gl.lock)

/* Every entry point of the v2.40 function list: nssrc_C_<name>. */
#define NSSRC_ENTRY(name, params) CK_RV nssrc_##name params;
#define NSSRC_UNSUPPORTED(name, params) CK_RV nssrc_##name params;
#include "nssrc_functions.h"

#endif /* NSSRC_H */
