package main

// `revocheck enable|disable gnutls`: the hook library in /etc/ld.so.preload.

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ld.so.preload entries are separated by whitespace or ':' (ld.so(8));
// ld.so knows no comments, but we leave any text after '#' alone. An
// entry is ours by its file name.
func isGnuTLSHook(entry string) bool { return filepath.Base(entry) == gnutlsHookName }

func (o *enableOpts) enableGnuTLS() error {
	lib, err := o.findLib(gnutlsHookName)
	if err != nil {
		return err
	}
	if err := checkELF(o.sys(lib)); err != nil {
		return fmt.Errorf("refusing to preload it into every process: %w", err)
	}
	if _, err := os.Stat(o.sys(filepath.Join(filepath.Dir(lib), "librevocheck.so.0"))); err != nil {
		o.say("gnutls", "warning: librevocheck.so.0 is not next to %s: the hook will look for it on the library path", lib)
	}
	host, err := o.resolveInRoot(o.preload)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(host)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return fmt.Errorf("%s: binary content; refusing to edit", o.shown(host))
	}
	for i, line := range strings.Split(string(data), "\n") {
		body, _, _ := strings.Cut(line, "#")
		for _, f := range strings.FieldsFunc(body, isPreloadSep) {
			if f == lib {
				o.say("gnutls", "%s already preloads %s; nothing changed", o.shown(host), lib)
				return nil
			}
			if isGnuTLSHook(f) {
				return fmt.Errorf("%s:%d already preloads another copy, %s; run `revocheck disable gnutls` first", o.shown(host), i+1, f)
			}
		}
	}
	newData := append([]byte{}, data...)
	if len(newData) > 0 && newData[len(newData)-1] != '\n' {
		newData = append(newData, '\n')
	}
	newData = append(newData, lib+"\n"...)
	backup, err := backupOnce(host)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		return err
	}
	if err := writeAtomic(host, newData, 0o644); err != nil {
		return err
	}
	if backup != "" {
		o.say("gnutls", "added %s to %s; original kept as %s", lib, o.shown(host), o.shown(backup))
	} else {
		o.say("gnutls", "created %s preloading %s", o.shown(host), lib)
	}
	return nil
}

func isPreloadSep(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == ':' }

func (o *enableOpts) disableGnuTLS() error {
	host, err := o.resolveInRoot(o.preload)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(host)
	if errors.Is(err, fs.ErrNotExist) {
		o.say("gnutls", "%s does not exist; nothing to do", o.shown(host))
		return nil
	}
	if err != nil {
		return err
	}
	var out []string
	var removed []string
	for _, line := range strings.Split(string(data), "\n") {
		body, comment, hasComment := strings.Cut(line, "#")
		fields := strings.FieldsFunc(body, isPreloadSep)
		var keep []string
		for _, f := range fields {
			if isGnuTLSHook(f) {
				removed = append(removed, f)
			} else {
				keep = append(keep, f)
			}
		}
		if len(keep) == len(fields) {
			out = append(out, line) // untouched lines stay byte for byte
			continue
		}
		if len(keep) == 0 && !hasComment {
			continue // the line held only our entry
		}
		nl := strings.Join(keep, " ")
		if hasComment {
			nl += " #" + comment
		}
		out = append(out, nl)
	}
	if len(removed) == 0 {
		o.say("gnutls", "%s does not preload the revocheck hook; nothing changed", o.shown(host))
		return nil
	}
	newData := []byte(strings.Join(out, "\n"))
	if _, err := backupOnce(host); err != nil {
		return err
	}
	if strings.TrimSpace(string(newData)) == "" {
		// Empty preload list: the file's absence says the same.
		if err := os.Remove(host); err != nil {
			return err
		}
		o.say("gnutls", "removed %s from %s (now empty, deleted)", strings.Join(removed, ", "), o.shown(host))
		return nil
	}
	if err := writeAtomic(host, newData, 0o644); err != nil {
		return err
	}
	o.say("gnutls", "removed %s from %s", strings.Join(removed, ", "), o.shown(host))
	return nil
}
