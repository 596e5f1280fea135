package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	"k8s.io/klog/v2"
	utilexec "k8s.io/utils/exec"
)

func selfSignedCert(ip string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "cdk-kubelet"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP(ip), net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func (k *kubelet) serveHTTPS() (*http.Server, error) {
	cert, err := selfSignedCert(k.cfg.nodeIP)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("GET /pods", k.handlePods)
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", k.handleLogs)
	mux.HandleFunc("/exec/{ns}/{pod}/{container}", k.handleExec)
	mux.HandleFunc("/exec/{ns}/{pod}/{uid}/{container}", k.handleExec)
	mux.HandleFunc("/attach/{ns}/{pod}/{container}", k.handleAttach)
	mux.HandleFunc("/attach/{ns}/{pod}/{uid}/{container}", k.handleAttach)
	mux.HandleFunc("/portForward/{ns}/{pod}", k.handlePortForward)
	mux.HandleFunc("/portForward/{ns}/{pod}/{uid}", k.handlePortForward)
	srv := &http.Server{
		Addr:    net.JoinHostPort(k.cfg.nodeIP, strconv.Itoa(k.cfg.port)),
		Handler: logRequests(mux),
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{cert},
			ClientAuth:   tls.RequestClientCert, // any client (the apiserver), not verified
			NextProtos:   []string{"http/1.1"},
		},
		// HTTP/1.1 only: SPDY upgrades and chunked log streams.
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ReadHeaderTimeout: 30 * time.Second,
	}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return nil, err
	}
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && err != http.ErrServerClosed {
			klog.Errorf("https: %v", err)
		}
	}()
	return srv, nil
}

func logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		klog.V(1).Infof("http %s %s", r.Method, r.URL.RequestURI())
		h.ServeHTTP(w, r)
	})
}

func (k *kubelet) handlePods(w http.ResponseWriter, _ *http.Request) {
	k.mu.Lock()
	var pods []*corev1.Pod
	for _, wk := range k.workers {
		pods = append(pods, wk.getPod())
	}
	k.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"kind": "PodList", "apiVersion": "v1", "items": pods})
}

func (w *podWorker) container(name string) *ctrState {
	for _, c := range w.ctrs {
		if c.spec.Name == name {
			return c
		}
	}
	return nil
}

func (k *kubelet) handleLogs(w http.ResponseWriter, r *http.Request) {
	ns, podName, cname := r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container")
	wk := k.findWorker(ns, podName)
	if wk == nil {
		http.Error(w, fmt.Sprintf("pod %s/%s not found on node %s", ns, podName, k.cfg.nodeName), http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	opts := logOptions{tailLines: -1}
	opts.follow, _ = strconv.ParseBool(q.Get("follow"))
	opts.timestamps, _ = strconv.ParseBool(q.Get("timestamps"))
	previous, _ := strconv.ParseBool(q.Get("previous"))
	if s := q.Get("tailLines"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			http.Error(w, "bad tailLines", http.StatusBadRequest)
			return
		}
		opts.tailLines = n
	}
	if s := q.Get("limitBytes"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			http.Error(w, "bad limitBytes", http.StatusBadRequest)
			return
		}
		opts.limitBytes = n
	}
	if s := q.Get("sinceSeconds"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			http.Error(w, "bad sinceSeconds", http.StatusBadRequest)
			return
		}
		opts.since = time.Now().Add(-time.Duration(n) * time.Second)
	}
	if s := q.Get("sinceTime"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			http.Error(w, "bad sinceTime", http.StatusBadRequest)
			return
		}
		opts.since = t
	}
	lf, msg := wk.logFor(cname, previous)
	if lf == nil {
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	flusher, _ := w.(http.Flusher)
	flush := func() {
		if flusher != nil {
			flusher.Flush()
		}
	}
	if err := lf.stream(r.Context(), w, flush, opts); err != nil {
		klog.V(1).Infof("logs %s/%s/%s: %v", ns, podName, cname, err)
	}
}

// logFor finds the log of the current (or previous) run of a container.
func (w *podWorker) logFor(name string, previous bool) (*logFile, string) {
	pod := w.getPod()
	// the worker goroutine mutates ctrState; reading the pointers is racy
	// but only ever observes a complete *ctrRun
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.container(name)
	if c == nil {
		return nil, fmt.Sprintf("container %q in pod %q is not valid", name, pod.Name)
	}
	if previous {
		if c.prev == nil || c.prev.log == nil {
			return nil, fmt.Sprintf("previous terminated container %q in pod %q not found", name, pod.Name)
		}
		return c.prev.log, ""
	}
	if c.cur == nil {
		return nil, fmt.Sprintf("container %q in pod %q is waiting to start: ContainerCreating", name, pod.Name)
	}
	return c.cur.log, ""
}

type executor struct{ k *kubelet }

func (e executor) ExecInContainer(ctx context.Context, name, uid, container string, cmd []string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, timeout time.Duration) error {
	ns, podName, _ := strings.Cut(name, "/")
	wk := e.k.findWorker(ns, podName)
	if wk == nil {
		return fmt.Errorf("pod %s not found", name)
	}
	wk.mu.Lock()
	c := wk.container(container)
	wk.mu.Unlock()
	if c == nil {
		return fmt.Errorf("container %q not found in pod %s", container, name)
	}
	if !c.running() {
		return fmt.Errorf("container %q is not running", container)
	}
	var o, ew io.Writer
	if out != nil {
		o = out
	}
	if errw != nil {
		ew = errw
	}
	code, err := e.k.execInPod(ctx, wk, c, cmd, in, o, ew, tty, resize)
	if err != nil {
		return err
	}
	if code != 0 {
		return utilexec.CodeExitError{Err: fmt.Errorf("command terminated with exit code %d", code), Code: code}
	}
	return nil
}

// execInPod runs cmd in the pod's namespaces with the container's env.
func (k *kubelet) execInPod(ctx context.Context, w *podWorker, c *ctrState, argv []string, in io.Reader, out, errw io.Writer, tty bool, resize <-chan remotecommand.TerminalSize) (int, error) {
	pod := w.getPod()
	w.mu.Lock()
	env, dir := c.env, c.dir
	termPath, pid := "", 0
	if c.cur != nil {
		termPath = c.cur.termPath
		if !c.cur.exited() {
			pid = c.cur.pid
		}
	}
	w.mu.Unlock()
	if env == nil {
		return 0, fmt.Errorf("container %s has no environment yet", c.spec.Name)
	}
	if pid == 0 {
		return 0, fmt.Errorf("container %s is not running", c.spec.Name)
	}
	hostname := podHostname(pod)
	if w.hostNet {
		hostname = ""
	}
	// join the container's PID namespace (its main process is pid 1 there)
	spec := nsSpec{NetNS: w.netns, Hostname: hostname, Binds: w.binds(pod, c, termPath), Dir: dir, Argv: argv,
		PidNS: fmt.Sprintf("/proc/%d/ns/pid", pid)}
	cmd, pr, err := k.helperCmd(spec, env.environ(), tty)
	if err != nil {
		return 0, err
	}
	if tty {
		cmd.SysProcAttr.Setsid = true
		cmd.SysProcAttr.Setctty = true
		ptmx, err := pty.StartWithAttrs(cmd, nil, cmd.SysProcAttr)
		if err != nil {
			return 0, err
		}
		defer ptmx.Close()
		go func() {
			for sz := range resize {
				_ = pty.Setsize(ptmx, &pty.Winsize{Rows: sz.Height, Cols: sz.Width})
			}
		}()
		if in != nil {
			go func() { _, _ = io.Copy(ptmx, in) }()
		}
		copied := make(chan struct{})
		go func() {
			if out != nil {
				_, _ = io.Copy(out, ptmx)
			} else {
				_, _ = io.Copy(io.Discard, ptmx)
			}
			close(copied)
		}()
		err = waitCtx(ctx, cmd)
		select {
		case <-copied:
		case <-time.After(500 * time.Millisecond):
		}
		return exitCode(err)
	}
	// plain pipes: stdout and stderr kept apart
	pw := cmd.Stdout.(*os.File)
	pw.Close()
	pr.Close()
	cmd.Stdout, cmd.Stderr = out, errw
	if out == nil {
		cmd.Stdout = io.Discard
	}
	if errw == nil {
		cmd.Stderr = io.Discard
	}
	if in != nil {
		cmd.Stdin = in
	}
	cmd.WaitDelay = 500 * time.Millisecond
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	return exitCode(waitCtx(ctx, cmd))
}

// waitCtx waits for the command, killing its process group when ctx ends.
func waitCtx(ctx context.Context, cmd *exec.Cmd) error {
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Process.Kill()
		case <-done:
		}
	}()
	err := cmd.Wait()
	close(done)
	return err
}

func exitCode(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	if ee, ok := err.(*exec.ExitError); ok {
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ws.ExitStatus(), nil
	}
	if err == exec.ErrWaitDelay {
		return 0, nil
	}
	return 0, err
}

func (k *kubelet) handleExec(w http.ResponseWriter, r *http.Request) {
	ns, podName, cname := r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container")
	wk := k.findWorker(ns, podName)
	if wk == nil {
		http.Error(w, "pod not found", http.StatusNotFound)
		return
	}
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	cmd := r.URL.Query()["command"]
	remotecommand.ServeExec(w, r, executor{k}, ns+"/"+podName, string(wk.uid), cname, cmd, opts,
		4*time.Hour, remotecommand.DefaultStreamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

type forwarder struct{ k *kubelet }

// PortForward connects to the port on the pod's own localhost: the socket
// is created on an OS thread switched into the pod's network namespace.
func (f forwarder) PortForward(ctx context.Context, name, uid string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	ns, podName, _ := strings.Cut(name, "/")
	wk := f.k.findWorker(ns, podName)
	if wk == nil {
		return fmt.Errorf("pod %s not found", name)
	}
	var conn net.Conn
	var err error
	if wk.netns == "" {
		conn, err = net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	} else {
		conn, err = dialInNetns(wk.netns, fmt.Sprintf("127.0.0.1:%d", port))
	}
	if err != nil {
		// the pod IP from the host, for servers bound to eth0 only
		conn, err = net.DialTimeout("tcp", net.JoinHostPort(wk.ip.String(), strconv.Itoa(int(port))), 5*time.Second)
		if err != nil {
			return fmt.Errorf("port %d in pod %s: %w", port, name, err)
		}
	}
	defer conn.Close()
	var once sync.Once
	done := make(chan struct{})
	cp := func(dst io.Writer, src io.Reader) {
		_, _ = io.Copy(dst, src)
		once.Do(func() { close(done) })
	}
	go cp(conn, stream)
	go cp(stream, conn)
	select {
	case <-done:
	case <-ctx.Done():
	}
	return nil
}

func dialInNetns(nsPath, addr string) (net.Conn, error) {
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			ch <- res{nil, err}
			runtime.UnlockOSThread()
			return
		}
		defer orig.Close()
		target, err := os.Open(nsPath)
		if err != nil {
			ch <- res{nil, err}
			runtime.UnlockOSThread()
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- res{nil, err}
			runtime.UnlockOSThread()
			return
		}
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		ch <- res{c, err}
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		} // else: the thread stays locked and dies with the goroutine
	}()
	r := <-ch
	return r.c, r.err
}

func (k *kubelet) handlePortForward(w http.ResponseWriter, r *http.Request) {
	ns, podName := r.PathValue("ns"), r.PathValue("pod")
	wk := k.findWorker(ns, podName)
	if wk == nil {
		http.Error(w, "pod not found", http.StatusNotFound)
		return
	}
	opts, err := portforward.NewV4Options(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	portforward.ServePortForward(w, r, forwarder{k}, ns+"/"+podName, string(wk.uid), opts,
		4*time.Hour, remotecommand.DefaultStreamCreationTimeout, portforward.SupportedProtocols)
}

var _ = filepath.Join

// AttachContainer streams the container's output from now on (the
// container's stdin is /dev/null: input is read and dropped) until the
// container's run ends or the client goes away.
func (e executor) AttachContainer(ctx context.Context, name, uid, container string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	ns, podName, _ := strings.Cut(name, "/")
	wk := e.k.findWorker(ns, podName)
	if wk == nil {
		return fmt.Errorf("pod %s not found", name)
	}
	lf, msg := wk.logFor(container, false)
	if lf == nil {
		return fmt.Errorf("%s", msg)
	}
	if in != nil {
		go func() { _, _ = io.Copy(io.Discard, in) }()
	}
	if out == nil {
		<-ctx.Done()
		return nil
	}
	return lf.stream(ctx, out, func() {}, logOptions{follow: true, tailLines: 0})
}

func (k *kubelet) handleAttach(w http.ResponseWriter, r *http.Request) {
	ns, podName, cname := r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container")
	wk := k.findWorker(ns, podName)
	if wk == nil {
		http.Error(w, "pod not found", http.StatusNotFound)
		return
	}
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	remotecommand.ServeAttach(w, r, executor{k}, ns+"/"+podName, string(wk.uid), cname, opts,
		4*time.Hour, remotecommand.DefaultStreamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}
