/*
 * unsupported.c — every PKCS#11 v2.40 entry point this module does not
 * implement (the NSSRC_UNSUPPORTED lines of nssrc_functions.h): each answers
 * CKR_FUNCTION_NOT_SUPPORTED once the library is initialized, and
 * CKR_CRYPTOKI_NOT_INITIALIZED before.
 */
#include "nssrc.h"

static CK_RV unsupported(void)
{
	NSSRC_LOCK();
	NSSRC_UNLOCK();
	return CKR_FUNCTION_NOT_SUPPORTED;
}

/* The stubs ignore their arguments by definition. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define NSSRC_ENTRY(name, params)
#define NSSRC_UNSUPPORTED(name, params) \
	CK_RV nssrc_##name params { return unsupported(); }
#include "nssrc_functions.h"
