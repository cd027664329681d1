/*
 * test_module.c — drives libnssrevocheck.so through C_GetFunctionList for
 * what a Go PKCS#11 binding cannot express: NSS's 7-field
 * CK_C_INITIALIZE_ARGS with LibraryParameters, mutex callbacks, short
 * buffers, NULL arguments, fork() after the Go runtime started. Run by
 * integration/nsspkcs11_test.go:
 *
 *   nss-module-test MODULE CACHE_DIR ISSUER_HEX REVOKED_SERIAL_HEX GOOD_SERIAL_HEX
 *
 * Prints one line per failed check; exit 0 when all pass.
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pkcs11.h>
#include <pkcs11n.h>

static int failures;

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			printf("FAIL line %d: %s\n", __LINE__, #cond);       \
			failures++;                                          \
		}                                                            \
	} while (0)

static size_t unhex(const char *s, unsigned char *out, size_t max)
{
	size_t n = strlen(s) / 2;
	if (n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return 0;
		out[i] = (unsigned char)v;
	}
	return n;
}

static CK_RV dummy_create(CK_VOID_PTR_PTR m)
{
	*m = NULL;
	return CKR_OK;
}

static CK_RV dummy_other(CK_VOID_PTR m)
{
	(void)m;
	return CKR_OK;
}

/* Searches for a trust object; returns the handle or 0. */
static CK_OBJECT_HANDLE find(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, unsigned char *issuer,
                             CK_ULONG ilen, unsigned char *serial, CK_ULONG slen)
{
	CK_OBJECT_CLASS cls = CKO_NSS_TRUST;
	CK_ATTRIBUTE tmpl[] = {
		{CKA_CLASS, &cls, sizeof cls},
		{CKA_ISSUER, issuer, ilen},
		{CKA_SERIAL_NUMBER, serial, slen},
	};
	CK_OBJECT_HANDLE h[2] = {0, 0};
	CK_ULONG n = 0;
	CHECK(f->C_FindObjectsInit(s, tmpl, 3) == CKR_OK);
	CHECK(f->C_FindObjects(s, h, 2, &n) == CKR_OK);
	CHECK(n <= 1);
	CK_ULONG again = 9;
	CHECK(f->C_FindObjects(s, h + 1, 1, &again) == CKR_OK && again == 0);
	CHECK(f->C_FindObjectsFinal(s) == CKR_OK);
	return n == 1 ? h[0] : 0;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: nss-module-test MODULE CACHE_DIR ISSUER_HEX REVOKED_HEX GOOD_HEX\n");
		return 2;
	}
	unsigned char issuer[4096], revoked[64], good[64];
	CK_ULONG ilen = unhex(argv[3], issuer, sizeof issuer);
	CK_ULONG rlen = unhex(argv[4], revoked, sizeof revoked);
	CK_ULONG glen = unhex(argv[5], good, sizeof good);
	if (ilen == 0 || rlen == 0 || glen == 0) {
		fprintf(stderr, "nss-module-test: bad hex argument\n");
		return 2;
	}
	void *dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		fprintf(stderr, "nss-module-test: %s\n", dlerror());
		return 2;
	}
	CK_C_GetFunctionList get;
	*(void **)&get = dlsym(dl, "C_GetFunctionList");
	if (get == NULL) {
		fprintf(stderr, "nss-module-test: no C_GetFunctionList\n");
		return 2;
	}
	CHECK(dlsym(dl, "C_Initialize") == NULL); /* only the function list is exported */
	CHECK(get(NULL) == CKR_ARGUMENTS_BAD);
	CK_FUNCTION_LIST_PTR f = NULL;
	CHECK(get(&f) == CKR_OK && f != NULL);
	if (f == NULL)
		return 1;
	CHECK(f->version.major == 2 && f->version.minor == 40);
	/* Every one of v2.40's 68 entries is filled (nssrc_functions.h is the
	 * whole list); the entries are function pointers of one size. */
	{
		enum { N = (sizeof *f - offsetof(CK_FUNCTION_LIST, C_Initialize)) / sizeof f->C_Initialize };
		CK_C_Initialize entries[N];
		memcpy(entries, &f->C_Initialize, sizeof entries);
		CHECK(N == 68);
		for (size_t i = 0; i < N; i++)
			if (entries[i] == NULL)
				printf("FAIL: function list entry %zu is NULL\n", i), failures++;
	}

	/* Before C_Initialize. */
	CK_INFO info;
	CHECK(f->C_GetInfo(&info) == CKR_CRYPTOKI_NOT_INITIALIZED);
	CHECK(f->C_Finalize(NULL) == CKR_CRYPTOKI_NOT_INITIALIZED);
	CHECK(f->C_Login(1, CKU_USER, NULL, 0) == CKR_CRYPTOKI_NOT_INITIALIZED);
	CHECK(f->C_WaitForSlotEvent(0, NULL, NULL) == CKR_CRYPTOKI_NOT_INITIALIZED);
	CHECK(f->C_FindObjectsFinal(1) == CKR_CRYPTOKI_NOT_INITIALIZED);

	/* Mutex callbacks: all or none; without CKF_OS_LOCKING_OK we cannot use them. */
	CK_C_INITIALIZE_ARGS args;
	memset(&args, 0, sizeof args);
	args.CreateMutex = dummy_create;
	CHECK(f->C_Initialize(&args) == CKR_ARGUMENTS_BAD);
	args.DestroyMutex = dummy_other;
	args.LockMutex = dummy_other;
	args.UnlockMutex = dummy_other;
	CHECK(f->C_Initialize(&args) == CKR_CANT_LOCK);
	args.flags = CKF_OS_LOCKING_OK;
	CHECK(f->C_Initialize(&args) == CKR_OK);
	CHECK(f->C_Finalize(&args) == CKR_ARGUMENTS_BAD); /* pReserved must be NULL */
	CHECK(f->C_Finalize(NULL) == CKR_OK);

	/* NSS style: LibraryParameters carries the modutil -string. */
	char params[1200];
	snprintf(params, sizeof params, "cache-dir=\"%s\" log=stderr", argv[2]);
	memset(&args, 0, sizeof args);
	args.flags = CKF_OS_LOCKING_OK;
	args.LibraryParameters = (CK_CHAR_PTR *)params;
	CHECK(f->C_Initialize(&args) == CKR_OK);
	CHECK(f->C_Initialize(&args) == CKR_CRYPTOKI_ALREADY_INITIALIZED);
	CHECK(f->C_GetInfo(NULL) == CKR_ARGUMENTS_BAD);
	CHECK(f->C_GetInfo(&info) == CKR_OK);
	CHECK(memcmp(info.manufacturerID, "revocheck ", 10) == 0);

	/* Slot list: size query, short buffer, full buffer. */
	CK_ULONG count = 0;
	CK_SLOT_ID slots[2] = {0, 0};
	CHECK(f->C_GetSlotList(CK_TRUE, NULL, &count) == CKR_OK && count == 1);
	count = 0;
	CHECK(f->C_GetSlotList(CK_TRUE, slots, &count) == CKR_BUFFER_TOO_SMALL && count == 1);
	count = 2;
	CHECK(f->C_GetSlotList(CK_FALSE, slots, &count) == CKR_OK && count == 1 && slots[0] == 1);
	CHECK(f->C_GetSlotList(CK_TRUE, NULL, NULL) == CKR_ARGUMENTS_BAD);
	CK_MECHANISM_INFO mi;
	CHECK(f->C_GetMechanismInfo(1, CKM_SHA256, &mi) == CKR_MECHANISM_INVALID);

	CK_SESSION_HANDLE s = 0;
	CHECK(f->C_OpenSession(1, CKF_SERIAL_SESSION, NULL, NULL, NULL) == CKR_ARGUMENTS_BAD);
	CHECK(f->C_OpenSession(7, CKF_SERIAL_SESSION, NULL, NULL, &s) == CKR_SLOT_ID_INVALID);
	CHECK(f->C_OpenSession(1, CKF_SERIAL_SESSION, NULL, NULL, &s) == CKR_OK && s != 0);

	/* Template argument errors. */
	CK_ULONG n = 0;
	CHECK(f->C_FindObjectsInit(s, NULL, 2) == CKR_ARGUMENTS_BAD);
	CK_ATTRIBUTE nullval = {CKA_ISSUER, NULL, 5};
	CHECK(f->C_FindObjectsInit(s, &nullval, 1) == CKR_ATTRIBUTE_VALUE_INVALID);
	CHECK(f->C_FindObjectsInit(s, NULL, 0) == CKR_OK);
	CHECK(f->C_FindObjects(s, NULL, 1, &n) == CKR_ARGUMENTS_BAD);
	CHECK(f->C_FindObjects(s, NULL, 0, NULL) == CKR_ARGUMENTS_BAD);
	CHECK(f->C_FindObjects(s, NULL, 0, &n) == CKR_OK && n == 0);
	CHECK(f->C_FindObjectsFinal(s) == CKR_OK);

	/* Trust answers. */
	CHECK(find(f, s, issuer, ilen, good, glen) == 0);
	CK_OBJECT_HANDLE o = find(f, s, issuer, ilen, revoked, rlen);
	CHECK(o != 0);

	/* Fork after the Go runtime started: the child must never call into
	 * it (it would hang); it asks a helper process (rc_helper.c) and
	 * answers like the parent, also after re-initializing as PKCS#11
	 * asks of a child. */
	pid_t pid = fork();
	if (pid == 0) {
		alarm(20); /* a hang kills the child: the parent sees a signal */
		int bad = find(f, s, issuer, ilen, revoked, rlen) == 0;
		bad |= find(f, s, issuer, ilen, good, glen) != 0;
		f->C_Finalize(NULL);
		CK_C_INITIALIZE_ARGS cargs;
		memset(&cargs, 0, sizeof cargs);
		cargs.flags = CKF_OS_LOCKING_OK;
		char cparams[1200];
		snprintf(cparams, sizeof cparams, "cache-dir=\"%s\"", argv[2]);
		cargs.LibraryParameters = (CK_CHAR_PTR *)cparams;
		CK_SESSION_HANDLE cs = 0;
		bad |= f->C_Initialize(&cargs) != CKR_OK;
		bad |= f->C_OpenSession(1, CKF_SERIAL_SESSION, NULL, NULL, &cs) != CKR_OK;
		bad |= find(f, cs, issuer, ilen, revoked, rlen) == 0;
		_exit(bad || failures ? 3 : 0);
	}
	int status = 0;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(find(f, s, issuer, ilen, revoked, rlen) != 0); /* the parent still answers */

	/* C_GetAttributeValue per PKCS#11 v2.40 §5.7. */
	CK_OBJECT_CLASS cls = 0;
	CK_TRUST trust = 0;
	unsigned char small[2];
	CK_ATTRIBUTE a[4] = {
		{CKA_CLASS, &cls, sizeof cls},
		{CKA_ISSUER, NULL, 0},            /* size query */
		{CKA_SERIAL_NUMBER, small, 1},    /* too small */
		{CKA_TRUST_SERVER_AUTH, &trust, sizeof trust},
	};
	CHECK(f->C_GetAttributeValue(s, o, a, 4) == CKR_BUFFER_TOO_SMALL);
	CHECK(cls == CKO_NSS_TRUST && a[0].ulValueLen == sizeof cls);
	CHECK(a[1].ulValueLen == ilen);
	CHECK(a[2].ulValueLen == CK_UNAVAILABLE_INFORMATION);
	CHECK(trust == CKT_NSS_NOT_TRUSTED);
	CK_BBOOL token = CK_FALSE;
	CK_ATTRIBUTE b[2] = {
		{CKA_CERT_SHA1_HASH, small, sizeof small},
		{CKA_TOKEN, &token, sizeof token},
	};
	CHECK(f->C_GetAttributeValue(s, o, b, 2) == CKR_ATTRIBUTE_TYPE_INVALID);
	CHECK(b[0].ulValueLen == CK_UNAVAILABLE_INFORMATION && token == CK_TRUE);
	CHECK(f->C_GetAttributeValue(s, o, NULL, 1) == CKR_ARGUMENTS_BAD);
	CHECK(f->C_GetAttributeValue(s, o + 1000, b + 1, 1) == CKR_OBJECT_HANDLE_INVALID);
	CHECK(f->C_GetAttributeValue(s + 1000, o, b + 1, 1) == CKR_SESSION_HANDLE_INVALID);

	/* Sessions go away; unsupported functions say so. */
	CHECK(f->C_Login(s, CKU_USER, NULL, 0) == CKR_FUNCTION_NOT_SUPPORTED);
	CHECK(f->C_InitToken(1, NULL, 0, NULL) == CKR_FUNCTION_NOT_SUPPORTED);
	CHECK(f->C_SignInit(s, NULL, 0) == CKR_FUNCTION_NOT_SUPPORTED);
	CHECK(f->C_GenerateKeyPair(s, NULL, NULL, 0, NULL, 0, NULL, NULL) == CKR_FUNCTION_NOT_SUPPORTED);
	CHECK(f->C_WaitForSlotEvent(0, NULL, NULL) == CKR_FUNCTION_NOT_SUPPORTED);
	CHECK(f->C_CloseAllSessions(1) == CKR_OK);
	CK_SESSION_INFO si;
	CHECK(f->C_GetSessionInfo(s, &si) == CKR_SESSION_HANDLE_INVALID);

	/* Finalize, initialize again with the same parameters: same answers. */
	CHECK(f->C_Finalize(NULL) == CKR_OK);
	CHECK(f->C_Initialize(&args) == CKR_OK);
	CHECK(f->C_OpenSession(1, CKF_SERIAL_SESSION, NULL, NULL, &s) == CKR_OK);
	CHECK(find(f, s, issuer, ilen, revoked, rlen) != 0);
	CHECK(f->C_Finalize(NULL) == CKR_OK);

	if (failures == 0)
		printf("ok: all checks passed\n");
	return failures == 0 ? 0 : 1;
}
