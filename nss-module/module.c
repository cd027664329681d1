/*
 * module.c — the revocheck NSS trust module: library, slot, token and
 * session entry points, and C_GetFunctionList (the only exported symbol).
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

struct nssrc_state nssrc_gl = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
};

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* A fork while another thread holds the lock would leave the child with a
 * lock nobody can release: take it around fork. In the child no other
 * thread exists, so no check is in flight. */
static void atfork_prepare(void)
{
	pthread_mutex_lock(&nssrc_gl.lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&nssrc_gl.lock);
}

static void atfork_child(void)
{
	nssrc_gl.busy = 0;
	pthread_mutex_unlock(&nssrc_gl.lock);
}

static void register_atfork(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

CK_RV nssrc_unsupported(void)
{
	int init;
	pthread_mutex_lock(&nssrc_gl.lock);
	init = nssrc_gl.initialized;
	pthread_mutex_unlock(&nssrc_gl.lock);
	return init ? CKR_FUNCTION_NOT_SUPPORTED : CKR_CRYPTOKI_NOT_INITIALIZED;
}

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
	pthread_once(&atfork_once, register_atfork);

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

static void close_sessions_inlock(void)
{
	for (size_t i = 0; i < nssrc_gl.n_sessions; i++)
		free(nssrc_gl.sessions[i]);
	nssrc_gl.n_sessions = 0;
}

CK_RV nssrc_C_Finalize(CK_VOID_PTR pReserved)
{
	if (pReserved != NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_mutex_lock(&nssrc_gl.lock);
	if (!nssrc_gl.initialized) {
		pthread_mutex_unlock(&nssrc_gl.lock);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	nssrc_gl.initialized = 0; /* new calls fail from here on */
	while (nssrc_gl.busy > 0) /* let checks in flight finish */
		pthread_cond_wait(&nssrc_gl.idle, &nssrc_gl.lock);
	close_sessions_inlock();
	free(nssrc_gl.sessions);
	nssrc_gl.sessions = NULL;
	nssrc_gl.cap_sessions = 0;
	nssrc_objects_clear_inlock();
	rc_loader_shutdown(&nssrc_gl.loader);
	pthread_mutex_unlock(&nssrc_gl.lock);
	return CKR_OK;
}

/* Every entry point below starts like this (p11-kit's shape). */
#define LOCK_INITIALIZED()                                     \
	do {                                                   \
		pthread_mutex_lock(&nssrc_gl.lock);            \
		if (!nssrc_gl.initialized) {                   \
			pthread_mutex_unlock(&nssrc_gl.lock);  \
			return CKR_CRYPTOKI_NOT_INITIALIZED;   \
		}                                              \
	} while (0)
#define UNLOCK() pthread_mutex_unlock(&nssrc_gl.lock)

CK_RV nssrc_C_GetInfo(CK_INFO_PTR pInfo)
{
	if (pInfo == NULL)
		return CKR_ARGUMENTS_BAD;
	LOCK_INITIALIZED();
	UNLOCK();
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
	LOCK_INITIALIZED();
	if (pSlotList != NULL) {
		if (*pulCount < 1)
			rv = CKR_BUFFER_TOO_SMALL;
		else
			pSlotList[0] = NSSRC_SLOT_ID;
	}
	*pulCount = 1;
	UNLOCK();
	return rv;
}

CK_RV nssrc_C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
	if (pInfo == NULL)
		return CKR_ARGUMENTS_BAD;
	LOCK_INITIALIZED();
	UNLOCK();
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
	LOCK_INITIALIZED();
	CK_ULONG sessions = nssrc_gl.n_sessions;
	UNLOCK();
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
	LOCK_INITIALIZED();
	UNLOCK();
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
	LOCK_INITIALIZED();
	UNLOCK();
	if (slotID != NSSRC_SLOT_ID)
		return CKR_SLOT_ID_INVALID;
	return CKR_MECHANISM_INVALID;
}

struct nssrc_session *nssrc_session_inlock(CK_SESSION_HANDLE h)
{
	for (size_t i = 0; i < nssrc_gl.n_sessions; i++)
		if (nssrc_gl.sessions[i]->handle == h)
			return nssrc_gl.sessions[i];
	return NULL;
}

CK_RV nssrc_C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication,
                          CK_NOTIFY Notify, CK_SESSION_HANDLE_PTR phSession)
{
	CK_RV rv = CKR_OK;
	(void)pApplication; /* no notifications are ever sent */
	(void)Notify;
	if (phSession == NULL)
		return CKR_ARGUMENTS_BAD;
	LOCK_INITIALIZED();
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
				UNLOCK();
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
	UNLOCK();
	return rv;
}

CK_RV nssrc_C_CloseSession(CK_SESSION_HANDLE hSession)
{
	CK_RV rv = CKR_SESSION_HANDLE_INVALID;
	LOCK_INITIALIZED();
	for (size_t i = 0; i < nssrc_gl.n_sessions; i++) {
		if (nssrc_gl.sessions[i]->handle == hSession) {
			free(nssrc_gl.sessions[i]);
			nssrc_gl.sessions[i] = nssrc_gl.sessions[--nssrc_gl.n_sessions];
			rv = CKR_OK;
			break;
		}
	}
	UNLOCK();
	return rv;
}

CK_RV nssrc_C_CloseAllSessions(CK_SLOT_ID slotID)
{
	LOCK_INITIALIZED();
	if (slotID != NSSRC_SLOT_ID) {
		UNLOCK();
		return CKR_SLOT_ID_INVALID;
	}
	close_sessions_inlock();
	UNLOCK();
	return CKR_OK;
}

CK_RV nssrc_C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
	CK_RV rv = CKR_OK;
	if (pInfo == NULL)
		return CKR_ARGUMENTS_BAD;
	LOCK_INITIALIZED();
	struct nssrc_session *s = nssrc_session_inlock(hSession);
	if (s == NULL) {
		rv = CKR_SESSION_HANDLE_INVALID;
	} else {
		memset(pInfo, 0, sizeof *pInfo);
		pInfo->slotID = NSSRC_SLOT_ID;
		pInfo->state = CKS_RO_PUBLIC_SESSION;
		pInfo->flags = s->flags;
	}
	UNLOCK();
	return rv;
}

static CK_FUNCTION_LIST nssrc_function_list = {
	.version = {2, 40},
	.C_Initialize = nssrc_C_Initialize,
	.C_Finalize = nssrc_C_Finalize,
	.C_GetInfo = nssrc_C_GetInfo,
	.C_GetFunctionList = nssrc_C_GetFunctionList,
	.C_GetSlotList = nssrc_C_GetSlotList,
	.C_GetSlotInfo = nssrc_C_GetSlotInfo,
	.C_GetTokenInfo = nssrc_C_GetTokenInfo,
	.C_GetMechanismList = nssrc_C_GetMechanismList,
	.C_GetMechanismInfo = nssrc_C_GetMechanismInfo,
	.C_InitToken = nssrc_C_InitToken,
	.C_InitPIN = nssrc_C_InitPIN,
	.C_SetPIN = nssrc_C_SetPIN,
	.C_OpenSession = nssrc_C_OpenSession,
	.C_CloseSession = nssrc_C_CloseSession,
	.C_CloseAllSessions = nssrc_C_CloseAllSessions,
	.C_GetSessionInfo = nssrc_C_GetSessionInfo,
	.C_GetOperationState = nssrc_C_GetOperationState,
	.C_SetOperationState = nssrc_C_SetOperationState,
	.C_Login = nssrc_C_Login,
	.C_Logout = nssrc_C_Logout,
	.C_CreateObject = nssrc_C_CreateObject,
	.C_CopyObject = nssrc_C_CopyObject,
	.C_DestroyObject = nssrc_C_DestroyObject,
	.C_GetObjectSize = nssrc_C_GetObjectSize,
	.C_GetAttributeValue = nssrc_C_GetAttributeValue,
	.C_SetAttributeValue = nssrc_C_SetAttributeValue,
	.C_FindObjectsInit = nssrc_C_FindObjectsInit,
	.C_FindObjects = nssrc_C_FindObjects,
	.C_FindObjectsFinal = nssrc_C_FindObjectsFinal,
	.C_EncryptInit = nssrc_C_EncryptInit,
	.C_Encrypt = nssrc_C_Encrypt,
	.C_EncryptUpdate = nssrc_C_EncryptUpdate,
	.C_EncryptFinal = nssrc_C_EncryptFinal,
	.C_DecryptInit = nssrc_C_DecryptInit,
	.C_Decrypt = nssrc_C_Decrypt,
	.C_DecryptUpdate = nssrc_C_DecryptUpdate,
	.C_DecryptFinal = nssrc_C_DecryptFinal,
	.C_DigestInit = nssrc_C_DigestInit,
	.C_Digest = nssrc_C_Digest,
	.C_DigestUpdate = nssrc_C_DigestUpdate,
	.C_DigestKey = nssrc_C_DigestKey,
	.C_DigestFinal = nssrc_C_DigestFinal,
	.C_SignInit = nssrc_C_SignInit,
	.C_Sign = nssrc_C_Sign,
	.C_SignUpdate = nssrc_C_SignUpdate,
	.C_SignFinal = nssrc_C_SignFinal,
	.C_SignRecoverInit = nssrc_C_SignRecoverInit,
	.C_SignRecover = nssrc_C_SignRecover,
	.C_VerifyInit = nssrc_C_VerifyInit,
	.C_Verify = nssrc_C_Verify,
	.C_VerifyUpdate = nssrc_C_VerifyUpdate,
	.C_VerifyFinal = nssrc_C_VerifyFinal,
	.C_VerifyRecoverInit = nssrc_C_VerifyRecoverInit,
	.C_VerifyRecover = nssrc_C_VerifyRecover,
	.C_DigestEncryptUpdate = nssrc_C_DigestEncryptUpdate,
	.C_DecryptDigestUpdate = nssrc_C_DecryptDigestUpdate,
	.C_SignEncryptUpdate = nssrc_C_SignEncryptUpdate,
	.C_DecryptVerifyUpdate = nssrc_C_DecryptVerifyUpdate,
	.C_GenerateKey = nssrc_C_GenerateKey,
	.C_GenerateKeyPair = nssrc_C_GenerateKeyPair,
	.C_WrapKey = nssrc_C_WrapKey,
	.C_UnwrapKey = nssrc_C_UnwrapKey,
	.C_DeriveKey = nssrc_C_DeriveKey,
	.C_SeedRandom = nssrc_C_SeedRandom,
	.C_GenerateRandom = nssrc_C_GenerateRandom,
	.C_GetFunctionStatus = nssrc_C_GetFunctionStatus,
	.C_CancelFunction = nssrc_C_CancelFunction,
	.C_WaitForSlotEvent = nssrc_C_WaitForSlotEvent,
};

__attribute__((visibility("default"))) CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList);

/* The only exported symbol. */
__attribute__((visibility("default"))) CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
	if (ppFunctionList == NULL)
		return CKR_ARGUMENTS_BAD;
	*ppFunctionList = &nssrc_function_list;
	return CKR_OK;
}

CK_RV nssrc_C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
	return C_GetFunctionList(ppFunctionList);
}
