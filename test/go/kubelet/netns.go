package main

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/klog/v2"
)

const netnsDir = "/run/netns"

func netnsName(uid string) string {
	if len(uid) > 12 {
		uid = uid[:12]
	}
	return "cdk-" + uid
}

func vethName(uid string) string {
	s := strings.ReplaceAll(uid, "-", "")
	if len(s) > 12 {
		s = s[:12]
	}
	return "vc" + s
}

func runIP(stdin string, args ...string) error {
	cmd := exec.Command("ip", args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// ensureBridge creates the bridge if `up` has not (idempotent).
func ensureBridge(bridge, cidr string) error {
	if _, err := os.Stat("/sys/class/net/" + bridge); err == nil {
		return runIP("", "link", "set", bridge, "up")
	}
	klog.Infof("bridge %s missing, creating it with %s", bridge, cidr)
	if err := runIP("", "link", "add", bridge, "type", "bridge"); err != nil {
		return err
	}
	if err := runIP("", "addr", "add", cidr, "dev", bridge); err != nil {
		return err
	}
	return runIP("", "link", "set", bridge, "up")
}

// setupNetns creates the pod's network namespace with eth0 (a veth whose
// host end is in the bridge), lo up and a default route via the gateway.
func setupNetns(uid, bridge string, ip netip.Addr, prefix int, gw string) (string, error) {
	name := netnsName(uid)
	veth := vethName(uid)
	teardownNetns(uid) // leftovers of an earlier attempt
	if err := runIP("", "netns", "add", name); err != nil {
		return "", err
	}
	if err := runIP("", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", name); err != nil {
		return "", err
	}
	if err := runIP("", "link", "set", veth, "master", bridge, "up"); err != nil {
		return "", err
	}
	// forget the MAC of an earlier pod that had this address
	_ = runIP("", "neigh", "flush", "to", ip.String(), "dev", bridge)
	batch := fmt.Sprintf("link set lo up\naddr add %s/%d dev eth0\nlink set eth0 up\nroute add default via %s\n", ip, prefix, gw)
	if err := runIP(batch, "-n", name, "-batch", "-"); err != nil {
		return "", err
	}
	return filepath.Join(netnsDir, name), nil
}

func teardownNetns(uid string) {
	name := netnsName(uid)
	if _, err := os.Stat(filepath.Join(netnsDir, name)); err == nil {
		killNetnsProcs(name, syscall.SIGKILL)
		if err := runIP("", "netns", "del", name); err != nil {
			klog.Warningf("%v", err)
		}
	}
	if _, err := os.Stat("/sys/class/net/" + vethName(uid)); err == nil {
		_ = runIP("", "link", "del", vethName(uid))
	}
}

// netnsPids lists processes whose network namespace is the named one (like
// `ip netns pids`).
func netnsPids(name string) []int {
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(netnsDir, name), &st); err != nil {
		return nil
	}
	want := fmt.Sprintf("net:[%d]", st.Ino)
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid)); err == nil && l == want {
			pids = append(pids, pid)
		}
	}
	return pids
}

func killNetnsProcs(name string, sig syscall.Signal) int {
	pids := netnsPids(name)
	for _, p := range pids {
		_ = syscall.Kill(p, sig)
	}
	return len(pids)
}

// cleanupStaleNetns kills the processes of, and removes, every cdk-* netns
// and cdk veth left by an earlier run.
func cleanupStaleNetns() {
	ents, _ := os.ReadDir(netnsDir)
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "cdk-") {
			continue
		}
		if n := killNetnsProcs(e.Name(), syscall.SIGKILL); n > 0 {
			klog.Infof("killed %d stale processes in netns %s", n, e.Name())
			time.Sleep(50 * time.Millisecond)
		}
		if err := runIP("", "netns", "del", e.Name()); err != nil {
			klog.Warningf("%v", err)
		} else {
			klog.Infof("removed stale netns %s", e.Name())
		}
	}
	links, _ := os.ReadDir("/sys/class/net")
	for _, l := range links {
		if strings.HasPrefix(l.Name(), "vc") && len(l.Name()) == 14 {
			_ = runIP("", "link", "del", l.Name())
		}
	}
}

// killStateProcs SIGKILLs every process whose environment marks it as a pod
// process of this state folder (CDK_TERMINATION_LOG=<state>/pods/...): the
// leftovers of a kubelet that died without stopping its pods, including
// hostNetwork pods and daemonized children.
func killStateProcs(state string) int {
	marker := []byte("\x00CDK_TERMINATION_LOG=" + filepath.Join(state, "pods") + "/")
	ents, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			continue
		}
		if bytes.Contains(append([]byte{0}, env...), marker) {
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				n++
			}
		}
	}
	return n
}
