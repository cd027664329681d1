package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/revocheck/revocheck/core/cache"
	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/ct"
	"github.com/revocheck/revocheck/core/engine"
	"github.com/revocheck/revocheck/core/outcome"
	"github.com/revocheck/revocheck/core/policy"
)

const checkUsage = `[flags] [CERT.pem|CERT.der ...]
       revocheck check [flags] --input FILE|-

Checks every certificate of a chain against its issuer, as the adapters
do: PEM on stdin (end-entity first, then intermediates, as
` + "`curl -sw '%{certs}' https://host`" + ` prints it), PEM/DER files given as
arguments, or the chain a server presents (--connect, verified first).
Each issuer is found among the given certificates by name and signature;
the top of the chain (the trust anchor, or the last certificate whose
issuer was not given) is not checked.

Exit status: 0 every certificate allowed (not revoked, or not covered and
allowed by policy), 2 any certificate revoked or denied by policy, 1 error.

--input answers raw keys instead, for differential tests and bulk audits:
one line per query, ` + "`ISSUER_SPKI_SHA256_HEX SERIAL_HEX SCTS`" + ` with SCTS
` + "`-`" + ` or ` + "`LOGID_HEX:TIMESTAMP_MS[,...]`" + ` (SERIAL: the DER INTEGER's content
bytes; blank-separated; further fields ignored), and prints one outcome name
per line, in order (--json: one object per line, {"line","outcome",
"allowed"[,"error"]}). A line that does not parse is answered ` + "`error`" + `, named
with its number on stderr (the first 10), and reading goes on. Exit status
with --input: 0 every line answered (whatever the outcomes: revoked is an
answer, not a failure), 1 any line bad or not checked (error, no_data) or
the input unreadable.`

type jsonSCT struct {
	LogID     string `json:"log_id"`
	Timestamp uint64 `json:"timestamp"`
}

type jsonInput struct {
	IssuerSPKISHA256 string    `json:"issuer_spki_sha256"`
	Serial           string    `json:"serial"`
	SCTs             []jsonSCT `json:"scts"`
}

// jsonCTSCT is one embedded SCT as the CT policy judged it.
type jsonCTSCT struct {
	LogID     string `json:"log_id"` // base64, as the log lists write it
	Timestamp uint64 `json:"timestamp"`
	Log       string `json:"log,omitempty"` // the log's description
	Operator  string `json:"operator,omitempty"`
	LogState  string `json:"log_state,omitempty"`
	Valid     bool   `json:"valid"`
	Status    string `json:"status"` // "valid", or why not
}

// jsonCT is the CT policy's verdict on one certificate (policy.ct).
type jsonCT struct {
	Policy    string      `json:"policy"`            // off, report, enforce
	Applies   bool        `json:"applies"`           // judged at all
	Why       string      `json:"why,omitempty"`     // why not judged
	Compliant bool        `json:"compliant"`         // meaningful when applies
	Verdict   string      `json:"verdict,omitempty"` // why not compliant, or why exempt
	Required  int         `json:"required_logs,omitempty"`
	Logs      int         `json:"valid_logs"`
	Operators int         `json:"operators"`
	SCTs      []jsonCTSCT `json:"scts"`
}

type jsonFilter struct {
	File   string `json:"file"`
	Result string `json:"result"`
}

// jsonCert is one certificate's check against its issuer.
type jsonCert struct {
	Depth   int          `json:"depth"` // 0 = end-entity
	Subject string       `json:"subject"`
	Outcome string       `json:"outcome"`
	Allowed bool         `json:"allowed"`
	Reason  string       `json:"reason"`
	Error   string       `json:"error,omitempty"`
	Input   *jsonInput   `json:"input,omitempty"`
	Filters []jsonFilter `json:"filters"`
	CT      *jsonCT      `json:"ct,omitempty"` // only with policy.ct = report or enforce
}

// jsonCheck is the chain's verdict: outcome, allowed and reason are those
// of the certificate at decided_by (the first one denied, else the
// end-entity); input and filters are the end-entity's; chain lists every
// certificate checked.
type jsonCheck struct {
	Outcome   string       `json:"outcome"`
	Allowed   bool         `json:"allowed"`
	Reason    string       `json:"reason"`
	Error     string       `json:"error,omitempty"`
	DecidedBy int          `json:"decided_by"`
	CacheDir  string       `json:"cache_dir"`
	Input     *jsonInput   `json:"input,omitempty"`
	Filters   []jsonFilter `json:"filters"`
	Chain     []jsonCert   `json:"chain"`
}

func cmdCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", checkUsage, stderr)
	var cf configFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print one JSON object (with --input: one per line)")
	connect := fs.String("connect", "", "connect to host[:port] (default port 443), verify its chain and check every certificate in it")
	caFile := fs.String("ca", "", "with --connect: trust anchors (PEM) instead of the system roots")
	request := fs.Bool("request", false, "answer one check-daemon request read on stdin with its 16-byte reply on stdout (the adapters' helper in forked processes)")
	input := fs.String("input", "", "answer raw-key query lines from FILE (\"-\": stdin), one outcome per line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *request {
		return checkRequest(os.Stdin, stdout)
	}
	if *input != "" && (*connect != "" || fs.NArg() > 0) {
		return fmt.Errorf("check: --input excludes --connect and certificate files")
	}
	chk, err := cf.checker()
	if err != nil {
		return err
	}
	defer chk.Close()
	if *input != "" {
		return checkInputLines(chk, *input, *asJSON, stdout, stderr)
	}

	var chain [][]byte
	if *connect != "" {
		if fs.NArg() > 0 {
			return fmt.Errorf("check: --connect and certificate files are exclusive")
		}
		chain, err = connectChain(*connect, *caFile)
	} else {
		chain, err = chainFromArgs(fs.Args())
	}
	if err != nil {
		return err
	}

	res := jsonCheck{CacheDir: chk.Config.CacheDir, Filters: []jsonFilter{}, Chain: []jsonCert{}, DecidedBy: -1}
	firstError := -1
	for i := 0; i+1 < len(chain); i++ {
		jc, err := checkOne(chk, i, chain[i], chain[i+1])
		if err != nil {
			return fmt.Errorf("check: certificate %d: %w", i, err)
		}
		res.Chain = append(res.Chain, jc)
		switch {
		case jc.Outcome == outcome.Error.String():
			if firstError < 0 {
				firstError = i
			}
		case res.DecidedBy < 0 && refused(jc):
			res.DecidedBy = i // refused as the adapters refuse it
		}
	}
	anyRefused := res.DecidedBy >= 0
	switch {
	case anyRefused:
	case firstError >= 0:
		res.DecidedBy = firstError // undecided: exit 1
	default:
		res.DecidedBy = 0
	}
	d := res.Chain[res.DecidedBy]
	res.Outcome, res.Allowed, res.Reason, res.Error = d.Outcome, d.Allowed, d.Reason, d.Error
	if res.DecidedBy > 0 {
		res.Reason = fmt.Sprintf("certificate %d (%s): %s", res.DecidedBy, d.Subject, d.Reason)
	}
	res.Input, res.Filters = res.Chain[0].Input, res.Chain[0].Filters
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printCheck(stdout, &res)
	}
	switch {
	case anyRefused:
		return denied()
	case firstError >= 0:
		return &exitError{code: 1}
	}
	return nil
}

// refused: the adapters refuse a certificate that is revoked or whose
// outcome the policy denies.
func refused(c jsonCert) bool { return !c.Allowed || c.Outcome == outcome.Revoked.String() }

// checkOne checks cert (at depth in the chain) against its issuer.
func checkOne(chk *engine.Checker, depth int, cert, issuer []byte) (jsonCert, error) {
	jc := jsonCert{Depth: depth, Filters: []jsonFilter{}}
	if c, err := x509.ParseCertificate(cert); err == nil {
		jc.Subject = c.Subject.String()
	}
	in := certinput.Input{}
	if err := certinput.Extract(cert, issuer, &in); err != nil {
		return jc, err
	}
	jc.Input = inputJSON(&in)
	var detail cache.Detail
	o, cerr := chk.Check(&in, &detail)
	if chk.Config.Policy.CT != policy.CTOff {
		r := chk.CTReport(cert, &in)
		o = chk.CTOutcome(o, r)
		jc.CT = ctJSON(chk.Config.Policy.CT, r)
	}
	d := chk.Decide(o)
	jc.Outcome, jc.Allowed, jc.Reason = o.String(), d.Allowed, d.Reason()
	if cerr != nil {
		jc.Error = cerr.Error()
	}
	for _, f := range detail.Filters {
		jc.Filters = append(jc.Filters, jsonFilter{File: f.Name, Result: f.Result.String()})
	}
	return jc, nil
}

func printCheck(w io.Writer, res *jsonCheck) {
	fmt.Fprintf(w, "%s: %s\n", res.Outcome, res.Reason)
	if res.Error != "" {
		fmt.Fprintf(w, "  cause: %s\n", res.Error)
	}
	for _, c := range res.Chain {
		verdict := "allowed"
		if refused(c) {
			verdict = "DENIED"
		}
		fmt.Fprintf(w, "  [%d] %s (%s): %s\n", c.Depth, c.Outcome, verdict, c.Subject)
		fmt.Fprintf(w, "      serial %s, issuer key sha256 %s, %d SCT(s)\n", c.Input.Serial, c.Input.IssuerSPKISHA256, len(c.Input.SCTs))
		if c.Error != "" && c.Depth != res.DecidedBy {
			fmt.Fprintf(w, "      cause: %s\n", c.Error)
		}
		for _, f := range c.Filters {
			fmt.Fprintf(w, "      filter %s: %s\n", f.File, f.Result)
		}
		printCT(w, c.CT)
	}
}

func printCT(w io.Writer, c *jsonCT) {
	switch {
	case c == nil:
		return
	case !c.Applies:
		fmt.Fprintf(w, "      CT (policy %s): not judged: %s\n", c.Policy, c.Why)
		return
	case c.Compliant && c.Verdict != "":
		fmt.Fprintf(w, "      CT (policy %s): exempt: %s\n", c.Policy, c.Verdict)
		return
	case c.Compliant:
		fmt.Fprintf(w, "      CT (policy %s): compliant: valid SCTs from %d logs of %d operators (%d logs required)\n", c.Policy, c.Logs, c.Operators, c.Required)
	default:
		fmt.Fprintf(w, "      CT (policy %s): NOT compliant: %s\n", c.Policy, c.Verdict)
	}
	for _, s := range c.SCTs {
		log := "unknown log"
		if s.Log != "" {
			log = fmt.Sprintf("%s (%s, %s)", s.Log, s.Operator, s.LogState)
		}
		fmt.Fprintf(w, "      SCT %s at %s: %s: %s\n", s.LogID, time.UnixMilli(int64(s.Timestamp)).UTC().Format(time.RFC3339), log, s.Status)
	}
}

// ctJSON renders the engine's CT report.
func ctJSON(mode policy.CTMode, r *engine.CTReport) *jsonCT {
	j := &jsonCT{Policy: mode.String(), Applies: r.Applies, Why: r.Why, SCTs: []jsonCTSCT{}}
	if r.Report == nil {
		return j
	}
	v := r.Verdict
	j.Compliant, j.Required, j.Logs, j.Operators = v.Compliant, v.Required, v.Logs, v.Operators
	j.Verdict = v.Reason
	if v.Exempt != "" {
		j.Verdict = v.Exempt
	}
	for _, res := range r.Results {
		s := jsonCTSCT{LogID: base64.StdEncoding.EncodeToString(res.SCT.LogID[:]), Timestamp: res.SCT.Timestamp,
			Valid: res.Status == ct.Valid || res.Status == ct.ValidRetired, Status: res.Status.String()}
		if res.Log != nil {
			s.Log, s.Operator, s.LogState = res.Log.Description, res.Log.Operator, res.Log.State.String()
		}
		j.SCTs = append(j.SCTs, s)
	}
	return j
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

// chainFromArgs reads the certificates and orders them into a chain: the
// first is the end-entity, each next one its predecessor's issuer found
// among the others by name and signature, until none is. The end-entity's
// issuer must be given.
func chainFromArgs(files []string) ([][]byte, error) {
	if len(files) == 0 {
		files = []string{"-"}
	}
	var certs [][]byte
	for _, f := range files {
		data, err := readFileOrStdin(f)
		if err != nil {
			return nil, err
		}
		name := f
		if f == "-" {
			name = "stdin"
		}
		cs, err := readCerts(data, name)
		if err != nil {
			return nil, err
		}
		certs = append(certs, cs...)
	}
	chain := [][]byte{certs[0]}
	rest := certs[1:]
	for len(rest) > 0 {
		issuer, err := findIssuer(chain[len(chain)-1], rest)
		if err != nil {
			if len(chain) == 1 {
				return nil, err
			}
			break // the top of what was given: not checked, as a trust anchor
		}
		chain = append(chain, issuer)
		var left [][]byte
		for _, c := range rest {
			if !bytes.Equal(c, issuer) {
				left = append(left, c)
			}
		}
		rest = left
	}
	if len(chain) < 2 {
		return nil, errors.New("issuer of the end-entity certificate not given (give the chain: end-entity first, then its issuer)")
	}
	return chain, nil
}

// connectChain performs a verified TLS handshake and returns the chain
// the verification built, end-entity first, trust anchor last.
func connectChain(hostport, caFile string) ([][]byte, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, "443"
	}
	conf := &tls.Config{ServerName: host}
	if caFile != "" {
		pemData, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		conf.RootCAs = x509.NewCertPool()
		if !conf.RootCAs.AppendCertsFromPEM(pemData) {
			return nil, fmt.Errorf("%s: no PEM certificate", caFile)
		}
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", net.JoinHostPort(host, port), conf)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", hostport, err)
	}
	defer conn.Close()
	chains := conn.ConnectionState().VerifiedChains
	if len(chains) == 0 || len(chains[0]) < 2 {
		return nil, fmt.Errorf("connect %s: no verified chain with an issuer", hostport)
	}
	var out [][]byte
	for _, c := range chains[0] {
		out = append(out, c.Raw)
	}
	return out, nil
}
