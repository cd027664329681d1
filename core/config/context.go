package config

import (
	"errors"
	"path/filepath"
	"strings"
)

// EnvVars are the environment variables Load reads. An adapter passes them
// on, unread, to the check daemon and to its helper process
// (adapters-common/rc_protocol.h's RC_PROTO_CONTEXT_ENV; core/checkd's
// tests hold the two lists equal).
var EnvVars = []string{"REVOCHECK_CONFIG", "REVOCHECK_CACHE_DIR", "XDG_CONFIG_HOME", "HOME"}

// LoadFrom is Load for another process's environment, given by getenv (an
// adapter's, passed on in a request): what revocheck_open would have
// built in that process.
func LoadFrom(explicit string, getenv func(string) string) (*Config, error) {
	return load(explicit, getenv)
}

// UserFile is the per-user config file Load reads for getenv's
// environment, or "" when there is none to look for: UserFileXDG below
// $XDG_CONFIG_HOME, else UserFileHome below $HOME. The adapters look for
// it by the same two names (rc_protocol.h; core/checkd's tests hold them
// equal) to tell the daemon whether it exists.
func UserFile(getenv func(string) string) string {
	if x := getenv("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, UserFileXDG)
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, UserFileHome)
	}
	return ""
}

// The per-user config file, below $XDG_CONFIG_HOME or else $HOME.
const (
	UserFileXDG  = "revocheck/config.toml"
	UserFileHome = ".config/" + UserFileXDG
)

// SystemOnly reports whether a process with this explicit config file and
// environment configures itself from the system file alone, and returns
// the cache directory its environment names ("" when none). The check
// daemon serves only such processes: it never reads a file a client
// names. Whether the client has a user file (UserFile) is the client's
// to tell — only it sees its home directory (the daemon runs with
// ProtectHome=yes) — and userFile says it does. The error says why not.
func SystemOnly(explicit string, getenv func(string) string, userFile bool) (envCacheDir string, err error) {
	if explicit == "" {
		explicit = getenv("REVOCHECK_CONFIG")
	}
	if explicit != "" {
		return "", errors.New("a config file is named for this process")
	}
	if userFile {
		return "", errors.New("this user has a config file")
	}
	d := getenv("REVOCHECK_CACHE_DIR")
	if strings.ContainsAny(d, ";\n") {
		return "", errors.New("$REVOCHECK_CACHE_DIR cannot be passed as an override")
	}
	return d, nil
}

// CacheOrigin says, for messages, which data directory this configuration
// uses and where that was decided: "cache DIR, set by this adapter's
// cache-dir", "cache DIR, from $REVOCHECK_CACHE_DIR", "cache DIR, from
// cache-dir in FILE:LINE" or "cache DIR, the built-in default". The
// adapters print it; they never work it out themselves.
func (c *Config) CacheOrigin() string {
	src := c.sources["cache-dir"]
	var how string
	switch {
	case src == "":
		how = "the built-in default"
	case strings.HasPrefix(src, "overrides"): // engine.Open's source for an adapter's settings
		how = "set by this adapter's cache-dir"
	case src == envCacheDirSource:
		how = "from " + envCacheDirSource
	default:
		file, _, _ := strings.Cut(src, ", ")
		how = "from cache-dir in " + file
	}
	return "cache " + c.CacheDir + ", " + how
}

// State is the one-line state reported for this configuration (the
// provider's `openssl list -providers -verbose`, the daemon's state
// reply), given why its data could not be opened (nil: it could):
// "ready (cache DIR)" or "no revocation data: WHY (cache DIR, ORIGIN);
// no-data policy applies". ready says whether checks can use data.
func (c *Config) State(dataErr error) (line string, ready bool) {
	if dataErr == nil {
		return "ready (cache " + c.CacheDir + ")", true
	}
	why := strings.TrimPrefix(dataErr.Error(), "cache: ")
	if !strings.HasPrefix(why, "no revocation data") {
		why = "no revocation data: " + why
	}
	return why + " (" + c.CacheOrigin() + "); no-data policy applies", false
}
