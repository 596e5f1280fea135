package main

// The "nsexec" helper: the kubelet re-executes itself (/proc/self/exe) with
// argv[1] == nsexecArg to start a pod process. The parent starts it with new
// mount and UTS namespaces (exec.Cmd Unshareflags; Go makes "/" rprivate), so
// the helper can bind-mount the service-account folder, termination-log file
// and volumes at their in-container paths without touching the host's view,
// set the hostname, enter the pod's network namespace and finally execve()
// the real program, which keeps the pid, the process group and the fds.
//
// A container's main process is started with a new PID namespace too
// (Cloneflags CLONE_NEWPID: the helper, then the program, is pid 1 in it).
// For exec, probes and hooks, the spec names that namespace (PidNS): the
// helper joins it with setns, which only applies to children, so it forks
// the program (pid > 1 in the container) and waits for it, ending with its
// exit status.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const nsexecArg = "__cdk_nsexec"

type bindMount struct {
	Src      string `json:"src"`
	Dst      string `json:"dst"`
	ReadOnly bool   `json:"ro,omitempty"`
}

type nsSpec struct {
	NetNS    string      `json:"netns,omitempty"`    // path, e.g. /run/netns/cdk-xxx
	Hostname string      `json:"hostname,omitempty"` // needs a new UTS namespace
	Binds    []bindMount `json:"binds,omitempty"`    // needs a new mount namespace
	Dir      string      `json:"dir,omitempty"`
	Argv     []string    `json:"argv"`
	PidNS    string      `json:"pidns,omitempty"` // join this PID namespace (/proc/<pid>/ns/pid) and fork
}

func nsexecMain() {
	runtime.LockOSThread()
	var spec nsSpec
	if len(os.Args) < 3 {
		fail(126, "nsexec: missing spec")
	}
	if err := json.Unmarshal([]byte(os.Args[2]), &spec); err != nil {
		fail(126, "nsexec: bad spec: %v", err)
	}
	for _, b := range spec.Binds {
		if err := bind(b); err != nil {
			fmt.Fprintf(os.Stderr, "cdk-kubelet: warning: cannot mount %s at %s: %v\n", b.Src, b.Dst, err)
		}
	}
	if spec.Hostname != "" {
		_ = unix.Sethostname([]byte(spec.Hostname))
	}
	if spec.NetNS != "" {
		fd, err := unix.Open(spec.NetNS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			fail(126, "nsexec: open netns %s: %v", spec.NetNS, err)
		}
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			fail(126, "nsexec: setns %s: %v", spec.NetNS, err)
		}
		unix.Close(fd)
	}
	dir := spec.Dir
	if dir == "" {
		dir = "/"
	}
	if err := os.Chdir(dir); err != nil {
		fmt.Fprintf(os.Stderr, "cdk-kubelet: warning: chdir %s: %v\n", dir, err)
	}
	if len(spec.Argv) == 0 {
		fail(126, "nsexec: empty command")
	}
	path, err := lookPath(spec.Argv[0], os.Getenv("PATH"))
	if err != nil {
		fail(127, "exec: %q: %v", spec.Argv[0], err)
	}
	if spec.PidNS != "" {
		os.Exit(forkInPidNS(spec.PidNS, path, spec.Argv))
	}
	err = unix.Exec(path, spec.Argv, os.Environ())
	fail(126, "exec %s: %v", path, err)
}

// forkInPidNS joins a container's PID namespace (this thread's children
// only: the thread is locked) and runs the program as a child there, in the
// helper's process group and session; it returns the exit code to end with.
func forkInPidNS(ns, path string, argv []string) int {
	fd, err := unix.Open(ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		fail(126, "nsexec: container not running (open %s: %v)", ns, err)
	}
	if err := unix.Setns(fd, unix.CLONE_NEWPID); err != nil {
		fail(126, "nsexec: setns %s: %v", ns, err)
	}
	unix.Close(fd)
	// The kubelet signals the whole process group (the child is in it, and a
	// tty's signals reach it too): the helper only outlives them to report
	// the child's status, it passes nothing on (that would double them).
	// (Caught, not ignored: an ignored signal would stay ignored in the child.)
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for range sigs {
		}
	}()
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{0, 1, 2}})
	if err != nil {
		fail(126, "exec %s: %v", path, err)
	}
	for {
		var ws syscall.WaitStatus
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			fail(126, "wait %s: %v", path, err)
		}
		if ws.Signaled() {
			// end like the program: killed by the same signal
			signal.Reset()
			_ = syscall.Kill(os.Getpid(), ws.Signal())
			time.Sleep(100 * time.Millisecond)
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
}

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "cdk-kubelet: "+format+"\n", args...)
	os.Exit(code)
}

func bind(b bindMount) error {
	st, err := os.Stat(b.Src)
	if err != nil {
		return err
	}
	if err := ensureMountPoint(b.Dst, st.IsDir()); err != nil {
		return err
	}
	if err := unix.Mount(b.Src, b.Dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	if b.ReadOnly {
		_ = unix.Mount("", b.Dst, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_REC, "")
	}
	return nil
}

// ensureMountPoint creates an empty directory or file at dst when it is
// missing. Since the pod shares the host file system, this creates an empty
// mount point on the host too (harmless; the content is only visible in the
// pod's mount namespace).
func ensureMountPoint(dst string, dir bool) error {
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	if dir {
		return os.MkdirAll(dst, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// lookPath resolves a program name against a PATH value (the pod's, not the
// kubelet's).
func lookPath(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		if isExecutable(name) {
			return name, nil
		}
		return "", fmt.Errorf("no such file or directory")
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			d = "."
		}
		p := filepath.Join(d, name)
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("executable file not found in $PATH")
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}
