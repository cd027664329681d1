package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/revocheck/revocheck/core/cache"
	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/outcome"
)

const checkUsage = `[flags] [CERT.pem|CERT.der ...]

Checks the end-entity certificate of a chain: PEM on stdin (end-entity first,
then intermediates, as ` + "`curl -sw '%{certs}' https://host`" + ` prints it), PEM/DER
files given as arguments, or the chain a server presents (--connect). The
issuer is found among the given certificates by name and signature.

Exit status: 0 allowed (not revoked, or not covered and allowed by policy),
2 revoked or denied by policy, 1 error.`

type jsonSCT struct {
	LogID     string `json:"log_id"`
	Timestamp uint64 `json:"timestamp"`
}

type jsonInput struct {
	IssuerSPKISHA256 string    `json:"issuer_spki_sha256"`
	Serial           string    `json:"serial"`
	SCTs             []jsonSCT `json:"scts"`
}

type jsonFilter struct {
	File   string `json:"file"`
	Result string `json:"result"`
}

type jsonCheck struct {
	Outcome  string       `json:"outcome"`
	Allowed  bool         `json:"allowed"`
	Reason   string       `json:"reason"`
	Error    string       `json:"error,omitempty"`
	CacheDir string       `json:"cache_dir"`
	Input    *jsonInput   `json:"input,omitempty"`
	Filters  []jsonFilter `json:"filters"`
}

func cmdCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", checkUsage, stderr)
	var cf configFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print one JSON object")
	connect := fs.String("connect", "", "connect to host[:port] (default port 443), verify its chain and check it")
	caFile := fs.String("ca", "", "with --connect: trust anchors (PEM) instead of the system roots")
	if err := fs.Parse(args); err != nil {
		return err
	}
	chk, err := cf.checker()
	if err != nil {
		return err
	}
	defer chk.Close()

	var leaf, issuer []byte
	if *connect != "" {
		if fs.NArg() > 0 {
			return fmt.Errorf("check: --connect and certificate files are exclusive")
		}
		leaf, issuer, err = connectChain(*connect, *caFile)
	} else {
		leaf, issuer, err = chainFromArgs(fs.Args())
	}
	if err != nil {
		return err
	}

	res := jsonCheck{CacheDir: chk.Config.CacheDir, Filters: []jsonFilter{}}
	in := certinput.Input{}
	if err := certinput.Extract(leaf, issuer, &in); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	res.Input = inputJSON(&in)
	var detail cache.Detail
	o, cerr := chk.Check(&in, &detail)
	d := chk.Decide(o)
	res.Outcome, res.Allowed, res.Reason = o.String(), d.Allowed, d.Reason()
	if cerr != nil {
		res.Error = cerr.Error()
	}
	for _, f := range detail.Filters {
		res.Filters = append(res.Filters, jsonFilter{File: f.Name, Result: f.Result.String()})
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "%s: %s\n", res.Outcome, res.Reason)
		if res.Error != "" {
			fmt.Fprintf(stdout, "  cause: %s\n", res.Error)
		}
		fmt.Fprintf(stdout, "  serial %s, issuer key sha256 %s, %d SCT(s)\n", res.Input.Serial, res.Input.IssuerSPKISHA256, len(res.Input.SCTs))
		for _, f := range res.Filters {
			fmt.Fprintf(stdout, "  filter %s: %s\n", f.File, f.Result)
		}
	}
	switch {
	case o == outcome.Error:
		return &exitError{code: 1}
	case !d.Allowed:
		return denied()
	}
	return nil
}

func inputJSON(in *certinput.Input) *jsonInput {
	j := &jsonInput{
		IssuerSPKISHA256: hex.EncodeToString(in.IssuerSPKIHash[:]),
		Serial:           hex.EncodeToString(in.Serial),
		SCTs:             []jsonSCT{},
	}
	for _, s := range in.SCTs {
		j.SCTs = append(j.SCTs, jsonSCT{LogID: hex.EncodeToString(s.LogID[:]), Timestamp: s.Timestamp})
	}
	return j
}

func chainFromArgs(files []string) (leaf, issuer []byte, err error) {
	if len(files) == 0 {
		files = []string{"-"}
	}
	var certs [][]byte
	for _, f := range files {
		data, err := readFileOrStdin(f)
		if err != nil {
			return nil, nil, err
		}
		name := f
		if f == "-" {
			name = "stdin"
		}
		cs, err := readCerts(data, name)
		if err != nil {
			return nil, nil, err
		}
		certs = append(certs, cs...)
	}
	issuer, err = findIssuer(certs[0], certs[1:])
	if err != nil {
		return nil, nil, err
	}
	return certs[0], issuer, nil
}

// connectChain performs a verified TLS handshake and returns the
// end-entity certificate and its issuer from the verified chain.
func connectChain(hostport, caFile string) (leaf, issuer []byte, err error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, "443"
	}
	conf := &tls.Config{ServerName: host}
	if caFile != "" {
		pemData, err := os.ReadFile(caFile)
		if err != nil {
			return nil, nil, err
		}
		conf.RootCAs = x509.NewCertPool()
		if !conf.RootCAs.AppendCertsFromPEM(pemData) {
			return nil, nil, fmt.Errorf("%s: no PEM certificate", caFile)
		}
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", net.JoinHostPort(host, port), conf)
	if err != nil {
		return nil, nil, fmt.Errorf("connect %s: %w", hostport, err)
	}
	defer conn.Close()
	chains := conn.ConnectionState().VerifiedChains
	if len(chains) == 0 || len(chains[0]) < 2 {
		return nil, nil, fmt.Errorf("connect %s: no verified chain with an issuer", hostport)
	}
	return chains[0][0].Raw, chains[0][1].Raw, nil
}
