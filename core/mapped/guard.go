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
	if e := Fault(prev, recover()); e != nil {
		*err = e
	}
}

// Fault is Guard for a deferred function that has more to do (one defer
// is cheaper than several on a path taken a million times a second):
//
//	prev := debug.SetPanicOnFault(true)
//	defer func() {
//		if err := mapped.Fault(prev, recover()); err != nil { ... }
//		...
//	}()
//
// It restores the fault mode and returns ErrFault for a memory fault, nil
// when nothing panicked; any other panic continues.
func Fault(prev bool, r any) error {
	debug.SetPanicOnFault(prev)
	if r == nil {
		return nil
	}
	if _, ok := r.(interface{ Addr() uintptr }); !ok {
		panic(r)
	}
	return fmt.Errorf("%w: %v", ErrFault, r)
}
