package sim

import (
	"encoding/base64"
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
