package sim

import (
	"encoding/base64"
	"fmt"
	"testing"
)

func basic(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }

func TestAuthRules(t *testing.T) {
	c, _ := newTestCluster(t)
	c.UpdateConfig(func(cfg *Config) {
		cfg.Users = []User{{Name: "system", Password: "s3"}, {Name: "admin", Password: "pw", Superuser: true}}
	})
	cases := []struct {
		name string
		r    AuthRequest
		user string // "" = refused
	}{
		{"crate local, no header", AuthRequest{Local: true, Remote: "127.0.0.1"}, "crate"},
		{"crate local, basic header ignored password", AuthRequest{Local: true, Remote: "127.0.0.1", Authorization: basic("crate", "x")}, "crate"},
		{"crate remote", AuthRequest{Remote: "10.88.1.11"}, ""},
		{"crate remote with basic", AuthRequest{Remote: "10.88.1.11", Authorization: basic("crate", "")}, ""},
		{"system right password", AuthRequest{Remote: "10.88.1.11", Authorization: basic("system", "s3")}, "system"},
		{"system wrong password", AuthRequest{Remote: "10.88.1.11", Authorization: basic("system", "no")}, ""},
		{"system local still needs password", AuthRequest{Local: true, Remote: "127.0.0.1", Authorization: basic("system", "no")}, ""},
		{"unknown user", AuthRequest{Remote: "10.88.1.11", Authorization: basic("bob", "x")}, ""},
		{"bearer", AuthRequest{Remote: "10.88.1.11", Authorization: "Bearer abc"}, ""},
		{"hba disabled", AuthRequest{Remote: "10.88.1.11", HBADisabled: true}, "crate"},
		{"custom hba trusts the pod network for crate", AuthRequest{Remote: "10.88.1.11",
			HBA: []HBAEntry{{User: "crate", Address: "10.88.0.0/16", Method: "trust"}, {Method: "password"}}}, "crate"},
		{"custom hba without a match", AuthRequest{Remote: "10.99.1.1", HBA: []HBAEntry{{User: "crate", Address: "10.88.0.0/16"}}}, ""},
		{"ssl on entry needs TLS", AuthRequest{Remote: "10.88.1.11", Authorization: basic("system", "s3"),
			HBA: []HBAEntry{{User: "crate", Address: "_local_"}, {Method: "password", SSL: "on"}}}, ""},
	}
	for _, tc := range cases {
		u, err := c.Authenticate(tc.r)
		if tc.user == "" {
			if err == nil {
				t.Fatalf("%s: accepted as %s", tc.name, u.Name)
			}
			continue
		}
		if err != nil || u.Name != tc.user {
			t.Fatalf("%s: %v %v", tc.name, u, err)
		}
	}
	c.UpdateConfig(func(cfg *Config) { cfg.TrustNetwork = true })
	if u, err := c.Authenticate(AuthRequest{Remote: "10.88.1.11"}); err != nil || !u.Superuser {
		t.Fatalf("trustNetwork: %v %v", u, err)
	}
}

func TestSysUsersAndCurrentUser(t *testing.T) {
	c, _ := newTestCluster(t, "data-hot-0")
	c.UpdateConfig(func(cfg *Config) {
		cfg.Users = []User{{Name: "system", Password: "s3"}, {Name: "admin", Superuser: true}}
	})
	system := Session{Via: id("data-hot-0"), User: User{Name: "system", Password: "s3"}}
	admin := Session{Via: id("data-hot-0"), User: User{Name: "admin", Superuser: true}}
	asCrate := Session{Via: id("data-hot-0"), User: User{Name: "crate", Superuser: true}}
	run := func(sess Session, stmt string, args ...any) *Result {
		t.Helper()
		r, _, err := c.Exec(sess, stmt, args, nil)
		if err != nil {
			t.Fatalf("%s as %s: %v", stmt, sess.User.Name, err)
		}
		return r
	}
	// the engine's question (shared/cluster-sql.ts SQL.superuser)
	const q = "SELECT superuser FROM sys.users WHERE name = CURRENT_USER"
	for _, tc := range []struct {
		sess Session
		want bool
	}{{system, false}, {admin, true}, {asCrate, true}} {
		r := run(tc.sess, q)
		if len(r.Rows) != 1 || r.Rows[0][0] != tc.want || r.Cols[0] != "superuser" {
			t.Fatalf("%s: %v %v", tc.sess.User.Name, r.Cols, r.Rows)
		}
	}
	r := run(system, "SELECT * FROM sys.users ORDER BY name")
	if got := fmt.Sprint(r.Cols, r.Rows); got != "[name password superuser] [[admin <nil> true] [crate <nil> true] [system ******** false]]" {
		t.Fatalf("sys.users: %s", got)
	}
	// the other spellings, without FROM, in an expression and as a label
	r = run(system, "SELECT CURRENT_USER, session_user, user AS u, current_user = 'system' AS me")
	if fmt.Sprint(r.Cols, r.Rows) != "[current_user session_user u me] [[system system system true]]" {
		t.Fatalf("no FROM: %v %v", r.Cols, r.Rows)
	}
	r = run(admin, "SELECT name FROM sys.users WHERE name != CURRENT_USER AND NOT superuser ORDER BY name")
	if fmt.Sprint(r.Rows) != "[[system]]" {
		t.Fatalf("!= CURRENT_USER: %v", r.Rows)
	}
	r = run(asCrate, "SELECT count(*) FROM sys.users WHERE name IN (CURRENT_USER, 'system')")
	if fmt.Sprint(r.Rows) != "[[2]]" {
		t.Fatalf("IN: %v", r.Rows)
	}
	// a configured user named crate does not replace the built-in superuser
	c.UpdateConfig(func(cfg *Config) { cfg.Users = append(cfg.Users, User{Name: "crate", Password: "x"}) })
	r = run(asCrate, "SELECT name, superuser, password FROM sys.users WHERE name = 'crate'")
	if fmt.Sprint(r.Rows) != "[[crate true <nil>]]" {
		t.Fatalf("crate: %v", r.Rows)
	}
	if e := sqlErrOf(c, system, "SELECT jwt FROM sys.users"); e == nil || e.Code != 4043 {
		t.Fatalf("unknown column: %v", e)
	}
}
