/*
 * functions.c — the CK_FUNCTION_LIST, built from nssrc_functions.h, and
 * C_GetFunctionList, the only exported symbol: the one place that ties the
 * entry points of module.c, objects.c and unsupported.c together.
 */
#include "nssrc.h"

static CK_FUNCTION_LIST nssrc_function_list = {
	.version = {2, 40},
#define NSSRC_ENTRY(name, params) .name = nssrc_##name,
#define NSSRC_UNSUPPORTED(name, params) .name = nssrc_##name,
#include "nssrc_functions.h"
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
