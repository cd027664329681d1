module github.com/revocheck/revocheck

go 1.26.0

require (
	github.com/miekg/pkcs11 v1.1.2 // indirect
	github.com/spaolacci/murmur3 v1.1.0 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
