package sim

// The CrateDB answers contract (issue 12 item 7): the statements of test/contract/crate/statements.json (the ones the
// engine sends) run on a 3-node simulated cluster; their answers, normalized, must equal test/contract/crate/answers.json.
// The TS fake (test/support/fakes/crate.ts) is held to the same file by test/unit/fakes/crate-vs-sim.test.ts, so
// both doubles give the same answers. UPDATE_CRATE_ANSWERS=1 go test ./internal/sim -run TestCrateAnswers rewrites
// the file after a deliberate change.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

type contractStatement struct {
	Name    string `json:"name"`
	Stmt    string `json:"stmt"`
	Args    []any  `json:"args"`
	User    string `json:"user"`
	Compare string `json:"compare"`
}

type contractFile struct {
	Cluster struct {
		Name  string   `json:"name"`
		Nodes []string `json:"nodes"`
		Table Table    `json:"table"`
	} `json:"cluster"`
	Statements []contractStatement `json:"statements"`
}

// contractAnswer is one normalized answer: a result (cols, rowcount, rows or their value types) or an error.
type contractAnswer struct {
	Name     string      `json:"name"`
	Cols     *[]string   `json:"cols,omitempty"`
	RowCount *int64      `json:"rowcount,omitempty"`
	Rows     *[][]any    `json:"rows,omitempty"`
	Shape    *[][]string `json:"shape,omitempty"`
	Error    *struct {
		Status  int    `json:"status"`
		Code    int    `json:"code"`
		Message string `json:"message,omitempty"`
	} `json:"error,omitempty"`
}

// jsonType names a JSON value's type as the TS side does (typeof, with null and array apart).
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "number"
}

func TestCrateAnswers(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "..", "contract", "crate")
	raw, err := os.ReadFile(filepath.Join(dir, "statements.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec contractFile
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	k := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := NewCluster(spec.Cluster.Name, k.Now)
	for i, n := range spec.Cluster.Nodes {
		if _, err := c.Join(JoinRequest{Name: n, Hostname: "crate-" + string(rune('0'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.CreateTable(spec.Cluster.Table); err != nil {
		t.Fatal(err)
	}
	advance(c, k, 5*time.Second)
	if h := c.Health(); h != "GREEN" {
		t.Fatalf("the cluster is %s, not GREEN, before the statements", h)
	}
	var answers []contractAnswer
	for _, s := range spec.Statements {
		sess := Session{Via: NodeID(spec.Cluster.Name, spec.Cluster.Nodes[0]), User: User{Name: "crate", Superuser: true}}
		if s.User != "" && s.User != "crate" {
			sess.User = User{Name: s.User}
		}
		// Through JSON, as the HTTP layer answers (numbers become float64, like the TS side's JSON.parse).
		res, _, sqlErr := c.Exec(sess, s.Stmt, s.Args, nil)
		a := contractAnswer{Name: s.Name}
		if sqlErr != nil {
			a.Error = &struct {
				Status  int    `json:"status"`
				Code    int    `json:"code"`
				Message string `json:"message,omitempty"`
			}{Status: sqlErr.HTTPStatus(), Code: sqlErr.Code}
			if s.Compare == "values" {
				a.Error.Message = sqlErr.Message
			}
		} else {
			b, _ := json.Marshal(res)
			var back struct {
				Cols     []string `json:"cols"`
				Rows     [][]any  `json:"rows"`
				RowCount int64    `json:"rowcount"`
			}
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			cols := append([]string{}, back.Cols...)
			a.Cols = &cols
			a.RowCount = &back.RowCount
			if s.Compare == "values" {
				rows := append([][]any{}, back.Rows...)
				a.Rows = &rows
			} else {
				shape := [][]string{}
				for _, r := range back.Rows {
					types := []string{}
					for _, v := range r {
						types = append(types, jsonType(v))
					}
					shape = append(shape, types)
				}
				a.Shape = &shape
			}
		}
		answers = append(answers, a)
		advance(c, k, 500*time.Millisecond)
	}
	got, _ := json.MarshalIndent(answers, "", "  ")
	got = append(got, '\n')
	path := filepath.Join(dir, "answers.json")
	if os.Getenv("UPDATE_CRATE_ANSWERS") == "1" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (UPDATE_CRATE_ANSWERS=1 writes it)", err)
	}
	var wantJSON, gotJSON any
	if err := json.Unmarshal(want, &wantJSON); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	_ = json.Unmarshal(got, &gotJSON)
	if !reflect.DeepEqual(wantJSON, gotJSON) {
		t.Fatalf("the simulator's answers differ from %s (a deliberate change: UPDATE_CRATE_ANSWERS=1 rewrites it):\n%s", path, got)
	}
}
