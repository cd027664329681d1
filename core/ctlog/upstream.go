package ctlog

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// MaxUpstreamSize bounds an upstream list or records listing (Google's v3
// list is ~100 KB).
const MaxUpstreamSize = 16 << 20

// v3 is the part of Google's log list v3 (log_list_schema.json) used here;
// other fields are ignored.
type v3 struct {
	Timestamp string `json:"log_list_timestamp"`
	Operators *[]struct {
		Name      string  `json:"name"`
		Logs      []v3Log `json:"logs"`
		TiledLogs []v3Log `json:"tiled_logs"` // static-ct-api logs: same SCTs
	} `json:"operators"`
}

type v3Log struct {
	Description string                     `json:"description"`
	LogID       string                     `json:"log_id"`
	Key         string                     `json:"key"`
	URL         string                     `json:"url"`
	Submission  string                     `json:"submission_url"`
	MMD         int64                      `json:"mmd"`
	State       map[string]json.RawMessage `json:"state"`
}

// ParseV3 reads a log list in Google's v3 shape: operators[] each with
// logs[] (and tiled_logs[]) {description, log_id, key, url, mmd, state:
// {<state>: {timestamp}}}. A log without a state is pending (not counted).
// Every log is validated as Parse does.
func ParseV3(data []byte, source string) (*List, error) {
	if len(data) > MaxUpstreamSize {
		return nil, fmt.Errorf("ctlog: log list of %d bytes, more than %d", len(data), MaxUpstreamSize)
	}
	var doc v3
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("ctlog: log list: %v", err)
	}
	if doc.Operators == nil {
		return nil, errors.New(`ctlog: log list: no "operators" (not a v3 log list)`)
	}
	l := &List{Source: source}
	if doc.Timestamp != "" {
		if t, err := time.Parse(time.RFC3339, doc.Timestamp); err == nil {
			l.GeneratedAt = t.Unix()
		}
	}
	for _, op := range *doc.Operators {
		for _, set := range [][]v3Log{op.Logs, op.TiledLogs} {
			for _, j := range set {
				if len(l.Logs) >= maxLogs {
					return nil, fmt.Errorf("ctlog: log list: more than %d logs", maxLogs)
				}
				st, at, err := v3State(j.State)
				if err != nil {
					return nil, fmt.Errorf("ctlog: log %q: %v", j.Description, err)
				}
				url := j.URL
				if url == "" {
					url = j.Submission
				}
				g, err := newLog(j.LogID, j.Key, op.Name, j.Description, url, j.MMD, st, at)
				if err != nil {
					return nil, fmt.Errorf("ctlog: log %q: %v", j.Description, err)
				}
				l.Logs = append(l.Logs, g)
			}
		}
	}
	if err := l.sortUnique(); err != nil {
		return nil, err
	}
	return l, nil
}

func v3State(m map[string]json.RawMessage) (State, int64, error) {
	if len(m) == 0 {
		return Pending, 0, nil
	}
	if len(m) > 1 {
		return 0, 0, errors.New("more than one state")
	}
	for name, raw := range m {
		st, ok := ParseState(name)
		if !ok {
			return 0, 0, fmt.Errorf("unknown state %q", name)
		}
		var s struct {
			Timestamp string `json:"timestamp"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, 0, fmt.Errorf("state %s: %v", name, err)
		}
		t, err := time.Parse(time.RFC3339, s.Timestamp)
		if err != nil {
			return 0, 0, fmt.Errorf("state %s: timestamp %q: %v", name, s.Timestamp, err)
		}
		if t.UnixMilli() < 0 {
			return 0, 0, fmt.Errorf("state %s: timestamp before 1970", name)
		}
		return st, t.UnixMilli(), nil
	}
	panic("unreachable")
}

// ParseRecords reads Mozilla's Remote Settings ct-logs collection
// ({"data": [records]}), whose records (mozilla/crlite moz_kinto_publisher,
// copied from Google's v3 list) are {logID, key, operator, description,
// url, mmd, admissible, crlite_enrolled}. They carry no state timestamps:
// an admissible log becomes Usable (Mozilla counts retired logs as
// admissible too and does not say since when), any other Rejected.
func ParseRecords(data []byte, source string) (*List, error) {
	if len(data) > MaxUpstreamSize {
		return nil, fmt.Errorf("ctlog: ct-logs records of %d bytes, more than %d", len(data), MaxUpstreamSize)
	}
	var doc struct {
		Data *[]struct {
			LogID       string `json:"logID"`
			Key         string `json:"key"`
			Operator    string `json:"operator"`
			Description string `json:"description"`
			URL         string `json:"url"`
			MMD         int64  `json:"mmd"`
			Admissible  *bool  `json:"admissible"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("ctlog: ct-logs records: %v", err)
	}
	if doc.Data == nil {
		return nil, errors.New(`ctlog: ct-logs records: no "data" list`)
	}
	if len(*doc.Data) > maxLogs {
		return nil, fmt.Errorf("ctlog: ct-logs records: more than %d", maxLogs)
	}
	l := &List{Source: source}
	for i, r := range *doc.Data {
		if r.Admissible == nil {
			return nil, fmt.Errorf("ctlog: ct-logs record %d (%q): no admissible flag", i, r.Description)
		}
		st := Rejected
		if *r.Admissible {
			st = Usable
		}
		g, err := newLog(r.LogID, r.Key, r.Operator, r.Description, r.URL, r.MMD, st, 0)
		if err != nil {
			return nil, fmt.Errorf("ctlog: ct-logs record %d (%q): %v", i, r.Description, err)
		}
		l.Logs = append(l.Logs, g)
	}
	if err := l.sortUnique(); err != nil {
		return nil, err
	}
	return l, nil
}

// ParseUpstream reads either upstream shape: a Remote Settings records
// listing (a top-level "data") or else a v3 log list.
func ParseUpstream(data []byte, source string) (*List, error) {
	var probe struct {
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(data, &probe) == nil && probe.Data != nil {
		return ParseRecords(data, source)
	}
	return ParseV3(data, source)
}
