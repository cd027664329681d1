// Package clock is the monotonic clock of the check path. A check passes
// three time gates (the cache's stat interval, the CRL sets' reload
// interval, the staleness memo); reading the clock costs ~25 ns on some
// VMs, a tenth of a whole check, so a check reads it once, here, and hands
// the reading to every gate.
package clock

import "time"

var epoch = time.Now()

// Mono returns the nanoseconds since the process loaded this package, on
// the monotonic clock: an origin shared by every gate, never going back.
func Mono() int64 { return int64(time.Since(epoch)) }
