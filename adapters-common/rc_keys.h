/*
 * rc_keys.h — revocheck's configuration keys, for an adapter whose host
 * hands out settings only by name (OpenSSL's core_get_params asks for each
 * provider parameter by name). The adapter asks for these and passes the
 * values through to the library unread (revocheck_open's overrides): the
 * library knows what they mean, judges them and reports what it could not
 * set. core/config's TestAdapterKeysMatchCHeader holds this list to
 * config.Keys, so a new key cannot be forgotten here. Space-separated.
 */
#ifndef RC_KEYS_H
#define RC_KEYS_H

#define RC_CONFIG_KEYS                                                                          \
	"cache-dir max-age policy.not-covered policy.not-enrolled policy.no-data policy.stale " \
	"policy.error policy.ct revocation.fetch-url revocation.allow-redirect-hosts intermediates.enabled " \
	"intermediates.fetch-url"

/* Upper bound on the keys above, for fixed-size tables. */
#define RC_CONFIG_KEYS_MAX 32

#endif /* RC_KEYS_H */
