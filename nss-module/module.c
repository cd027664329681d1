/*
 * module.c — the revocheck NSS trust module: library, slot, token and
 * session entry points (the function list is in functions.c, the state in
 * state.c).
 *
 * One slot holds one token: initialized, write-protected, no login. The slot
 * is deliberately not a hardware slot (no CKF_HW_SLOT): NSS then asks the
 * token for trust per certificate instead of caching objects per class.
 * Object search and attributes are in objects.c.
 */
#include "nssrc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies s into a fixed-width PKCS#11 text field, blank padded, no NUL. */
static void pad(CK_UTF8CHAR *dst, size_t size, const char *s)
{
	size_t n = strlen(s);
	memset(dst, ' ', size);
	memcpy(dst, s, n < size ? n : size);
}

static void version_of(CK_VERSION *v)
{
	unsigned major = 0, minor = 0;
	sscanf(REVOCHECK_VERSION, "%u.%u", &major, &minor);
	v->major = (CK_BYTE)major;
	v->minor = (CK_BYTE)minor;
}

/* WORKAROUND: NSS passes its module parameters in LibraryParameters (a char*
 * stored in a CK_CHAR_PTR * field); p11-kit passes x-init-reserved in the
 * standard struct's pReserved. Both are the sixth field, so that is the only
 * one read: NSS's extra seventh field does not exist in a standard caller's
 * struct. */
static const char *init_params(CK_C_INITIALIZE_ARGS *args)
{
	return (const char *)args->LibraryParameters;
}

CK_RV nssrc_C_Initialize(CK_VOID_PTR pInitArgs)
{
	CK_C_INITIALIZE_ARGS *args = pInitArgs;
	const char *params = NULL;
	CK_RV rv = CKR_OK;

	if (args != NULL) {
		int have = (args->CreateMutex != NULL) + (args->DestroyMutex != NULL) +
		           (args->LockMutex != NULL) + (args->UnlockMutex != NULL);
		if (have != 0 && have != 4)
			return CKR_ARGUMENTS_BAD;
		/* We lock with pthreads; application mutex callbacks alone
		 * (without CKF_OS_LOCKING_OK) cannot be honoured. */
		if (have == 4 && !(args->flags & CKF_OS_LOCKING_OK))
			return CKR_CANT_LOCK;
		/* WORKAROUND: CKF_LIBRARY_CANT_CREATE_OS_THREADS is ignored:
		 * NSS sets it (modutil -add fails otherwise), and the threads
		 * the Go runtime starts in librevocheck never call back into
		 * the application. */
		params = init_params(args);
	}
	nssrc_atfork_once();

	pthread_mutex_lock(&nssrc_gl.lock);
	if (nssrc_gl.initialized) {
		rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
	} else {
		/* The loader is reset on every initialize so parameters of a
		 * previous one do not leak in; it loads lazily on the first
		 * trust query, never here. */
		memset(&nssrc_gl.loader, 0, sizeof nssrc_gl.loader);
		rc_loader_init(&nssrc_gl.loader, "nss-module");
		if (nssrc_parse_params(&nssrc_gl.loader, params) != 0) {
			rc_log(&nssrc_gl.loader, "malformed module parameters: %s", params);
			rv = CKR_ARGUMENTS_BAD;
		} else {
			nssrc_gl.initialized = 1;
			nssrc_gl.next_session = 1;
			nssrc_gl.next_object = 1;
			rc_debug(&nssrc_gl.loader, "initialized (parameters: %s)",
			         params != NULL ? params : "none");
		}
	}
	pthread_mutex_unlock(&nssrc_gl.lock);
	return rv;
}

CK_RV nssrc_C_Finalize(CK_VOID_PTR pReserved)
{
	if (pReserved != NULL)
		return CKR_ARGUMENTS_BAD;
	NSSRC_LOCK();
	nssrc_gl.initialized = 0; /* new calls fail from here on */
	while (nssrc_gl.busy > 0) /* let checks in flight finish */
		pthread_cond_wait(&nssrc_gl.idle, &nssrc_gl.lock);
	nssrc_sessions_close_inlock();
	free(nssrc_gl.sessions);
	nssrc_gl.sessions = NULL;
	nssrc_gl.cap_sessions = 0;
	nssrc_objects_clear_inlock();
	rc_loader_shutdown(&nssrc_gl.loader);
	NSSRC_UNLOCK();
	return CKR_OK;
}

CK_RV nssrc_C_GetInfo(CK_INFO_PTR pInfo)
{
	if (pInfo == NULL)
		return CKR_ARGUMENTS_BAD;
	NSSRC_LOCK();
	NSSRC_UNLOCK();
	memset(pInfo, 0, sizeof *pInfo);
	pInfo->cryptokiVersion.major = 2;
	pInfo->cryptokiVersion.minor = 40;
	pad(pInfo->manufacturerID, sizeof pInfo->manufacturerID, "revocheck");
	pad(pInfo->libraryDescription, sizeof pInfo->libraryDescription,
	    "revocheck revocation trust");
	version_of(&pInfo->libraryVersion);
	return CKR_OK;
}

CK_RV nssrc_C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount)
{
	CK_RV rv = CKR_OK;
	(void)tokenPresent; /* the token is always present */
	if (pulCount == NULL)
		return CKR_ARGUMENTS_BAD;
	NSSRC_LOCK();
	if (pSlotList != NULL) {
		if (*pulCount < 1)
			rv = CKR_BUFFER_TOO_SMALL;
		else
			pSlotList[0] = NSSRC_SLOT_ID;
	}
	*pulCount = 1;
	NSSRC_UNLOCK();
	return rv;
}

CK_RV nssrc_C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
	if (pInfo == NULL)
		return CKR_ARGUMENTS_BAD;
	NSSRC_LOCK();
	NSSRC_UNLOCK();
	if (slotID != NSSRC_SLOT_ID)
		return CKR_SLOT_ID_INVALID;
	memset(pInfo, 0, sizeof *pInfo);
	pad(pInfo->slotDescription, sizeof pInfo->slotDescription,
	    "revocheck: distrusts revoked certificates (exact CRL data)");
	pad(pInfo->manufacturerID, sizeof pInfo->manufacturerID, "revocheck");
	pInfo->flags = CKF_TOKEN_PRESENT; /* not CKF_HW_SLOT: see the file comment */
	version_of(&pInfo->hardwareVersion);
	version_of(&pInfo->firmwareVersion);
	return CKR_OK;
}

CK_RV nssrc_C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
	if (pInfo == NULL)
		return CKR_ARGUMENTS_BAD;
	NSSRC_LOCK();
	CK_ULONG sessions = nssrc_gl.n_sessions;
	NSSRC_UNLOCK();
	if (slotID != NSSRC_SLOT_ID)
		return CKR_SLOT_ID_INVALID;
	memset(pInfo, 0, sizeof *pInfo);
	pad(pInfo->label, sizeof pInfo->label, "revocheck revocation");
	pad(pInfo->manufacturerID, sizeof pInfo->manufacturerID, "revocheck");
	pad(pInfo->model, sizeof pInfo->model, "trust module");
	pad(pInfo->serialNumber, sizeof pInfo->serialNumber, "1");
	pInfo->flags = CKF_TOKEN_INITIALIZED | CKF_WRITE_PROTECTED;
	pInfo->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
	pInfo->ulSessionCount = sessions;
	pInfo->ulMaxRwSessionCount = 0;
	pInfo->ulRwSessionCount = 0;
	pInfo->ulMaxPinLen = 0;
	pInfo->ulMinPinLen = 0;
	pInfo->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
	pInfo->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
	pInfo->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
	pInfo->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
	version_of(&pInfo->hardwareVersion);
	version_of(&pInfo->firmwareVersion);
	pad(pInfo->utcTime, sizeof pInfo->utcTime, ""); /* no clock on the token */
	return CKR_OK;
}

CK_RV nssrc_C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList,
                               CK_ULONG_PTR pulCount)
{
	(void)pMechanismList;
	if (pulCount == NULL)
		return CKR_ARGUMENTS_BAD;
	NSSRC_LOCK();
	NSSRC_UNLOCK();
	if (slotID != NSSRC_SLOT_ID)
		return CKR_SLOT_ID_INVALID;
	*pulCount = 0; /* no mechanisms: this token only holds trust */
	return CKR_OK;
}

CK_RV nssrc_C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type,
                               CK_MECHANISM_INFO_PTR pInfo)
{
	(void)type;
	if (pInfo == NULL)
		return CKR_ARGUMENTS_BAD;
	NSSRC_LOCK();
	NSSRC_UNLOCK();
	if (slotID != NSSRC_SLOT_ID)
		return CKR_SLOT_ID_INVALID;
	return CKR_MECHANISM_INVALID;
}

CK_RV nssrc_C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication,
                          CK_NOTIFY Notify, CK_SESSION_HANDLE_PTR phSession)
{
	CK_RV rv = CKR_OK;
	(void)pApplication; /* no notifications are ever sent */
	(void)Notify;
	if (phSession == NULL)
		return CKR_ARGUMENTS_BAD;
	NSSRC_LOCK();
	if (slotID != NSSRC_SLOT_ID) {
		rv = CKR_SLOT_ID_INVALID;
	} else if (!(flags & CKF_SERIAL_SESSION)) {
		rv = CKR_SESSION_PARALLEL_NOT_SUPPORTED;
	} else if (flags & CKF_RW_SESSION) {
		rv = CKR_TOKEN_WRITE_PROTECTED;
	} else {
		if (nssrc_gl.n_sessions == nssrc_gl.cap_sessions) {
			size_t cap = nssrc_gl.cap_sessions ? nssrc_gl.cap_sessions * 2 : 16;
			void *p = realloc(nssrc_gl.sessions, cap * sizeof *nssrc_gl.sessions);
			if (p == NULL) {
				NSSRC_UNLOCK();
				return CKR_HOST_MEMORY;
			}
			nssrc_gl.sessions = p;
			nssrc_gl.cap_sessions = cap;
		}
		struct nssrc_session *s = calloc(1, sizeof *s);
		if (s == NULL) {
			rv = CKR_HOST_MEMORY;
		} else {
			s->handle = nssrc_gl.next_session++;
			s->flags = flags;
			nssrc_gl.sessions[nssrc_gl.n_sessions++] = s;
			*phSession = s->handle;
		}
	}
	NSSRC_UNLOCK();
	return rv;
}

CK_RV nssrc_C_CloseSession(CK_SESSION_HANDLE hSession)
{
	struct nssrc_session *s;
	NSSRC_LOCK();
	NSSRC_SESSION(hSession, s);
	for (size_t i = 0; i < nssrc_gl.n_sessions; i++) {
		if (nssrc_gl.sessions[i] == s) {
			nssrc_gl.sessions[i] = nssrc_gl.sessions[--nssrc_gl.n_sessions];
			break;
		}
	}
	free(s);
	NSSRC_UNLOCK();
	return CKR_OK;
}

CK_RV nssrc_C_CloseAllSessions(CK_SLOT_ID slotID)
{
	NSSRC_LOCK();
	if (slotID != NSSRC_SLOT_ID) {
		NSSRC_UNLOCK();
		return CKR_SLOT_ID_INVALID;
	}
	nssrc_sessions_close_inlock();
	NSSRC_UNLOCK();
	return CKR_OK;
}

CK_RV nssrc_C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
	struct nssrc_session *s;
	if (pInfo == NULL)
		return CKR_ARGUMENTS_BAD;
	NSSRC_LOCK();
	NSSRC_SESSION(hSession, s);
	memset(pInfo, 0, sizeof *pInfo);
	pInfo->slotID = NSSRC_SLOT_ID;
	pInfo->state = CKS_RO_PUBLIC_SESSION;
	pInfo->flags = s->flags;
	NSSRC_UNLOCK();
	return CKR_OK;
}
