/*
 * shim.c — the C side of librevocheck.so: the public revocheck_* names of
 * revocheck.h, each a thin const-correct wrapper around a Go export
 * (exports.go). Only revocheck_* symbols are exported (librevocheck.map).
 */
#include <sys/auxv.h>
#include <unistd.h>

#include "_cgo_export.h"
#include "revocheck.h"

/* Set by the dynamic loader when this library is mapped, which is also when
 * the Go runtime starts. Pure C, so adapters may read it in a forked child. */
static long rc_loaded_pid;

__attribute__((constructor)) static void rc_record_pid(void)
{
	rc_loaded_pid = (long)getpid();
}

/* In a setuid/setgid process the environment belongs to the caller. */
int rc_secure(void);
int rc_secure(void)
{
	return getauxval(AT_SECURE) != 0;
}

long revocheck_runtime_pid(void)
{
	return rc_loaded_pid;
}

static const char *const rc_outcome_names[] = {
	[REVOCHECK_OUTCOME_REVOKED] = "revoked",
	[REVOCHECK_OUTCOME_NOT_REVOKED] = "not_revoked",
	[REVOCHECK_OUTCOME_NOT_ENROLLED] = "not_enrolled",
	[REVOCHECK_OUTCOME_NOT_COVERED] = "not_covered",
	[REVOCHECK_OUTCOME_NO_DATA] = "no_data",
	[REVOCHECK_OUTCOME_STALE] = "stale",
	[REVOCHECK_OUTCOME_ERROR] = "error",
	[REVOCHECK_OUTCOME_CT_NONCOMPLIANT] = "ct_noncompliant",
};

const char *revocheck_outcome_string(int32_t outcome)
{
	if (outcome < REVOCHECK_OUTCOME_REVOKED || outcome > REVOCHECK_OUTCOME_LAST)
		return "unknown";
	return rc_outcome_names[outcome];
}

int revocheck_abi_version(void)
{
	return REVOCHECK_ABI_VERSION;
}

const char *revocheck_version(void)
{
	return rcGoVersion();
}

int revocheck_open(const char *config_path, const char *overrides, revocheck_handle *out)
{
	if (out == NULL)
		return REVOCHECK_ERR_INVALID;
	return rcGoOpen((char *)config_path, (char *)overrides, (int64_t *)out);
}

int revocheck_close(revocheck_handle h)
{
	return rcGoClose(h);
}

int revocheck_check_der(revocheck_handle h, const uint8_t *cert, size_t cert_len,
                        const uint8_t *issuer, size_t issuer_len, revocheck_result *res)
{
	if (res == NULL)
		return REVOCHECK_ERR_INVALID;
	return rcGoCheckDER(h, (void *)cert, cert_len, (void *)issuer, issuer_len, res);
}

int revocheck_check_input(revocheck_handle h, const uint8_t issuer_spki_sha256[32],
                          const uint8_t *serial, size_t serial_len, const revocheck_sct *scts,
                          size_t n_scts, revocheck_result *res)
{
	if (res == NULL)
		return REVOCHECK_ERR_INVALID;
	return rcGoCheckInput(h, (void *)issuer_spki_sha256, (void *)serial, serial_len,
	                      (void *)scts, n_scts, res);
}

int revocheck_check_issuer_serial(revocheck_handle h, const uint8_t *issuer_name,
                                  size_t name_len, const uint8_t *serial, size_t serial_len,
                                  revocheck_result *res)
{
	if (res == NULL)
		return REVOCHECK_ERR_INVALID;
	return rcGoCheckIssuerSerial(h, (void *)issuer_name, name_len, (void *)serial, serial_len,
	                             res);
}

int revocheck_errmsg(revocheck_handle h, char *buf, size_t size)
{
	if (buf == NULL && size > 0)
		return REVOCHECK_ERR_INVALID;
	return rcGoErrmsg(h, buf, size);
}

int revocheck_state(revocheck_handle h, int32_t *ready, char *buf, size_t size)
{
	if (buf == NULL && size > 0)
		return REVOCHECK_ERR_INVALID;
	return rcGoState(h, ready, buf, size);
}

int revocheck_cache_origin(revocheck_handle h, char *buf, size_t size)
{
	if (buf == NULL && size > 0)
		return REVOCHECK_ERR_INVALID;
	return rcGoCacheOrigin(h, buf, size);
}
