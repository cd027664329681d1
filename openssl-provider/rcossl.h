/*
 * rcossl.h — state shared by the two files of the OpenSSL 3 provider:
 * provider.c (OSSL_provider_init, parameters, configuration) and hook.c
 * (the X509_STORE_CTX verify wrapper, "context mode").
 *
 * There is one state per process, not per provider instance: the hook is a
 * process-wide ex_data callback and librevocheck.so may only be started once.
 * The first instance to initialise configures it; later instances (another
 * library context loading the same config) only count as active.
 */
#ifndef RCOSSL_H
#define RCOSSL_H

#include "rc_loader.h"

typedef struct rcossl_state {
	rc_loader loader; /* lazy, fork-safe access to librevocheck.so */
	int configured;   /* loader settings were taken from a provider section */
	int active;       /* provider instances alive; the hook is idle at 0 (atomic) */
	int ex_index;     /* X509_STORE_CTX ex_data slot holding the original verify */
} rcossl_state;

/* The process-wide state; defined in provider.c. */
extern rcossl_state rcossl;

/* Registers the ex_data callback that wraps every new X509_STORE_CTX.
 * Idempotent; returns 1 on success, 0 if OpenSSL refused the index. */
int rcossl_hook_register(void);

/* Registers chain completion (complete.c): preloaded intermediates added as
 * untrusted certificates to a context whose presented chain lacks an issuer.
 * Idempotent; returns 1 on success. */
int rcossl_complete_register(void);

#endif /* RCOSSL_H */
