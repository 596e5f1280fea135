package server

import "testing"

func TestExpandHostnameAndHBA(t *testing.T) {
	if got := expandHostname(`data-hot-$(hostname | awk -F- '{print $NF}')`, "crate-data-hot-abc-2"); got != "data-hot-2" {
		t.Fatal(got)
	}
	if got := expandHostname(`$(hostname)`, "pod-1"); got != "pod-1" {
		t.Fatal(got)
	}
	o := ParseNodeArgs([]string{"/docker-entrypoint.sh", "crate", "-Cauth.host_based.config.99.method=password",
		"-Cauth.host_based.config.0.user=crate", "-Cauth.host_based.config.0.address=_local_", "-Cauth.host_based.config.0.method=trust",
		"-Cnode.name=data-hot-$(hostname | awk -F- '{print $NF}')", "-C", "cluster.name=c1", "-Cnot-a-setting"})
	t.Setenv("HOSTNAME", "x")
	e := hbaEntries(o.Settings)
	if len(e) != 2 || e[0].User != "crate" || e[0].Address != "_local_" || e[1].Method != "password" {
		t.Fatalf("%+v", e)
	}
	if o.Settings["cluster.name"] != "c1" {
		t.Fatalf("%+v", o.Settings)
	}
	if (NodeOptions{}).isLocal("127.0.0.1:5555") != true || (NodeOptions{}).isLocal("10.88.1.10:5555") {
		t.Fatal("loopback rule")
	}
}
