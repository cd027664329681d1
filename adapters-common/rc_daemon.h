/*
 * rc_daemon.h — the check daemon's client side, inside rc_loader (not an
 * interface of its own: rc_loader.h is). rc_daemon.c asks `revocheck
 * daemon` over its socket; rc_loader.c decides when (the library is not
 * loaded in this process) and falls back to the library, the helper or the
 * unavailable policy when these return 0.
 */
#ifndef RC_DAEMON_H
#define RC_DAEMON_H

#include "rc_loader.h"

#define RC_INTERNAL __attribute__((visibility("hidden")))

/* Incremented in every forked child (rc_loader.c): a kept connection or a
 * loaded library belongs to the epoch it was made in. */
RC_INTERNAL extern volatile unsigned rc_fork_epoch;

/* A check (kind RC_PROTO_KIND_DER or _ISSUER_SERIAL) on the kept
 * connection. 1: *res is the daemon's answer; 0: ask someone else. */
RC_INTERNAL int rc_daemon_ask(rc_loader *l, uint8_t kind, const uint8_t *a, size_t alen,
                              const uint8_t *b, size_t blen, revocheck_result *res);
/* The state line of this configuration. 1: *ready and msg set. */
RC_INTERNAL int rc_daemon_state_line(rc_loader *l, int *ready, char *msg, size_t size);
/* Issuer candidates for cert (rc_find_issuers). 1: *count and *len set. */
RC_INTERNAL int rc_daemon_issuers(rc_loader *l, const unsigned char *cert, size_t cert_len,
                                  unsigned char *buf, size_t size, size_t *len, int *count);

#endif
