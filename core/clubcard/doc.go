// Package clubcard reads and builds clubcard filters.
package clubcard
