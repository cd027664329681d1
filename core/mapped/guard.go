package mapped

import (
	"fmt"
	"runtime/debug"
)

// Guard protects a function that reads mapped bytes. Use it as
//
//	defer mapped.Guard(debug.SetPanicOnFault(true), &err)
//
// at the top of the function: a memory fault (a mapped file truncated in
// place) then returns ErrFault in err instead of killing the process; any
// other panic is not ours to hide and continues.
func Guard(prev bool, err *error) {
	debug.SetPanicOnFault(prev)
	if r := recover(); r != nil {
		if _, ok := r.(interface{ Addr() uintptr }); !ok {
			panic(r)
		}
		*err = fmt.Errorf("%w: %v", ErrFault, r)
	}
}
