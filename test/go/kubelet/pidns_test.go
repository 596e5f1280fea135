package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the nsexec helper (/proc/self/exe), as the kubelet does.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == nsexecArg {
		nsexecMain()
		return
	}
	os.Exit(m.Run())
}

// startContainer starts argv like a container's main process: the helper with its
// own PID namespace (worker.go start).
func startContainer(t *testing.T, argv ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("PID namespaces need root: run the kubelet's tests as root, as the kubelet runs")
	}
	k := &kubelet{}
	cmd, pr, err := k.helperCmd(nsSpec{Argv: argv}, os.Environ(), false)
	if err != nil {
		t.Fatal(err)
	}
	cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWPID
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd.Stdout.(*os.File).Close()
	out := &bytes.Buffer{}
	go func() { _, _ = out.ReadFrom(pr) }()
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	return cmd, out
}

// execIn runs argv like exec/probes/hooks do (server.go execInPod): joining the PID
// namespace of the main process.
func execIn(t *testing.T, main *exec.Cmd, argv ...string) (string, int) {
	t.Helper()
	k := &kubelet{}
	cmd, pr, err := k.helperCmd(nsSpec{Argv: argv, PidNS: fmt.Sprintf("/proc/%d/ns/pid", main.Process.Pid)}, os.Environ(), false)
	if err != nil {
		t.Fatal(err)
	}
	pr.Close()
	cmd.Stdout.(*os.File).Close()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	code, _ := exitCode(err)
	return strings.TrimSpace(out.String()), code
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestContainerMainProcessIsPid1AndExecJoinsItsNamespace(t *testing.T) {
	main, out := startContainer(t, "sh", "-c", `trap 'echo got-term; exit 0' TERM; echo "main pid $$"; sleep 1000 & wait`)
	waitFor(t, "the main process to print its pid", func() bool { return strings.Contains(out.String(), "main pid") })
	if !strings.Contains(out.String(), "main pid 1\n") {
		t.Fatalf("main process is not pid 1 in its container: %q", out.String())
	}
	// exec sees the container's processes: itself not pid 1, pid 1 = the main process
	got, code := execIn(t, main, "sh", "-c", `echo "exec pid $$"; kill -0 1 && echo pid1-alive`)
	if code != 0 || strings.Contains(got, "exec pid 1\n") || !strings.Contains(got, "pid1-alive") {
		t.Fatalf("exec: code %d, %q", code, got)
	}
	// real dc_util waits for -pid 1 to be gone: a signal to pid 1 from inside reaches the main process
	// (the exec'd shell may itself be killed with the namespace when pid 1 ends first: 137)
	if got, code := execIn(t, main, "sh", "-c", "kill -TERM 1"); code != 0 && code != 137 {
		t.Fatalf("kill 1 from exec: %d %q", code, got)
	}
	done := make(chan error, 1)
	go func() { done <- main.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("main process: %v (%q)", err, out.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the main process did not get the SIGTERM sent to pid 1 from an exec")
	}
	if !strings.Contains(out.String(), "got-term") {
		t.Fatalf("%q", out.String())
	}
	// exec into a container that is not running fails
	if _, code := execIn(t, main, "true"); code == 0 {
		t.Fatal("exec into an exited container succeeded")
	}
}

func TestPid1IgnoresSigtermWithoutHandlerAndTakesItsNamespaceAlong(t *testing.T) {
	main, _ := startContainer(t, "sleep", "1000")
	time.Sleep(100 * time.Millisecond)
	// a long exec'd process in the same namespace
	execDone := make(chan int, 1)
	go func() { _, code := execIn(t, main, "sleep", "1000"); execDone <- code }()
	time.Sleep(200 * time.Millisecond)
	// pid 1 without a handler: SIGTERM from the kubelet is not delivered (as in Kubernetes)
	_ = syscall.Kill(-main.Process.Pid, syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond)
	if err := syscall.Kill(main.Process.Pid, 0); err != nil {
		t.Fatalf("sleep as pid 1 died of SIGTERM: %v", err)
	}
	// SIGKILL is: the namespace ends, and the kernel kills the exec'd process too
	_ = syscall.Kill(main.Process.Pid, syscall.SIGKILL)
	select {
	case code := <-execDone:
		if code != 128+int(syscall.SIGKILL) {
			t.Fatalf("exec'd process ended with %d, want 137", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the exec'd process outlived its container's pid 1")
	}
}
