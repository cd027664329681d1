package main

// A sanity check on a library before it is loaded into every process.

import (
	"fmt"
	"io"
	"os"
)

// checkELF makes sure a library we are about to put in front of every
// process is a shared object of this machine's word size.
func checkELF(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var h [18]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return fmt.Errorf("%s: not an ELF shared object", path)
	}
	if string(h[:4]) != "\x7fELF" {
		return fmt.Errorf("%s: not an ELF shared object", path)
	}
	want := byte(2) // ELFCLASS64
	if strconvIntSize == 32 {
		want = 1
	}
	if h[4] != want {
		return fmt.Errorf("%s: ELF class %d does not match this system's (%d)", path, h[4], want)
	}
	etype := uint16(h[16]) | uint16(h[17])<<8 // e_type, in the file's byte order
	if h[5] == 2 {
		etype = uint16(h[16])<<8 | uint16(h[17])
	}
	if etype != 3 { // ET_DYN
		return fmt.Errorf("%s: not a shared object", path)
	}
	return nil
}

const strconvIntSize = 32 << (^uint(0) >> 63)
