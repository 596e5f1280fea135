package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

const saMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

// ctrRun is one start of a container.
type ctrRun struct {
	id        string
	pid       int
	startedAt time.Time
	log       *logFile
	termPath  string
	done      chan struct{} // closed when the main process exited
	cancel    context.CancelFunc

	// set before done is closed
	exitCode   int32
	signal     int
	finishedAt time.Time
	reason     string
	message    string
}

func (r *ctrRun) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

type ctrState struct {
	spec         corev1.Container
	init         bool
	restartCount int32
	cur, prev    *ctrRun
	lastTerm     *corev1.ContainerStateTerminated
	waiting      *corev1.ContainerStateWaiting
	ready        bool
	started      bool
	env          *envList
	dir          string // resolved working directory
	nextStart    time.Time
	imageID      string
}

func (c *ctrState) running() bool { return c.cur != nil && !c.cur.exited() }

// podWorker owns one pod: its sandbox, containers, probes and status.
type podWorker struct {
	k   *kubelet
	uid types.UID

	mu       sync.Mutex
	statusMu sync.Mutex // serializes syncStatus
	pod      *corev1.Pod
	gone     bool
	kickCh   chan struct{}
	ctrs     []*ctrState // init containers first
	dir      string

	// worker-goroutine state
	ip         netip.Addr
	netns      string
	sandboxOK  bool
	sandboxErr string
	saDir      string
	hostsFile  string
	resolvFile string
	hostNet    bool
	tokenRenew time.Time
	volumes    map[string]string
	startTime  *metav1.Time
	terminal   bool
	adopted    bool // was already terminal when we first saw it
	netDown    bool
	lastSent   *corev1.PodStatus
	finished   bool
	seen       time.Time // first informer event
}

func newPodWorker(k *kubelet, p *corev1.Pod) *podWorker {
	w := &podWorker{k: k, uid: p.UID, pod: p, kickCh: make(chan struct{}, 1), seen: time.Now(),
		dir: filepath.Join(k.cfg.state, "pods", string(p.UID))}
	for _, c := range p.Spec.InitContainers {
		w.ctrs = append(w.ctrs, &ctrState{spec: c, init: true})
	}
	for _, c := range p.Spec.Containers {
		w.ctrs = append(w.ctrs, &ctrState{spec: c})
	}
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		w.terminal, w.adopted, w.netDown = true, true, true
	}
	return w
}

func (w *podWorker) getPod() *corev1.Pod {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod
}

func (w *podWorker) update(p *corev1.Pod) {
	w.mu.Lock()
	w.pod = p
	w.mu.Unlock()
	w.kick()
}

func (w *podWorker) markGone() {
	w.mu.Lock()
	w.gone = true
	w.mu.Unlock()
	w.kick()
}

func (w *podWorker) isGone() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gone
}

func (w *podWorker) kick() {
	select {
	case w.kickCh <- struct{}{}:
	default:
	}
}

func (w *podWorker) kickAfter(d time.Duration) { time.AfterFunc(d, w.kick) }

func (w *podWorker) loop() {
	for {
		w.reconcile()
		if w.finished {
			w.k.workerDone(w)
			return
		}
		select {
		case <-w.kickCh:
		case <-w.k.ctx.Done():
			return // shutdownPods takes over
		}
	}
}

func (w *podWorker) log() string { return podKey(w.getPod()) }

func (w *podWorker) reconcile() {
	ctx := w.k.ctx
	pod := w.getPod()
	if w.isGone() {
		// Deleted from the API without us (force deletion, or after our DELETE).
		if !w.terminal {
			klog.Infof("%s: removed from the API, killing its processes", podKey(pod))
			w.killAll(pod, 2*time.Second, false)
		}
		w.teardown()
		w.finished = true
		return
	}
	if pod.DeletionTimestamp != nil {
		if !w.terminal {
			grace := 30 * time.Second
			if pod.DeletionGracePeriodSeconds != nil {
				grace = time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
			} else if pod.Spec.TerminationGracePeriodSeconds != nil {
				grace = time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
			}
			klog.Infof("%s: deletion requested, grace %s", podKey(pod), grace)
			w.killAll(pod, grace, true)
			w.terminal = true
			w.syncStatus(ctx, w.getPod())
		}
		w.teardown()
		w.k.deletePodObject(ctx, pod)
		klog.Infof("%s: deleted", podKey(pod))
		w.finished = true
		return
	}
	if w.terminal {
		w.teardown()
		if !w.adopted {
			w.syncStatus(ctx, pod)
		}
		return
	}
	if !w.sandboxOK {
		if err := w.setupSandbox(ctx, pod); err != nil {
			w.sandboxErr = err.Error()
			klog.Warningf("%s: sandbox: %v", podKey(pod), err)
			w.syncStatus(ctx, pod)
			w.kickAfter(2 * time.Second)
			return
		}
		w.sandboxOK, w.sandboxErr = true, ""
		w.writeNameFiles(pod)
	}
	if time.Now().After(w.tokenRenew) && w.saDir != "" {
		if err := w.writeSA(ctx, pod); err != nil {
			klog.Warningf("%s: token renewal: %v", podKey(pod), err)
		}
	}
	w.runContainers(ctx, pod)
	if w.computePhase(pod) == corev1.PodSucceeded || w.computePhase(pod) == corev1.PodFailed {
		w.terminal = true
		w.stopProbes()
		w.teardown()
	}
	w.syncStatus(ctx, pod)
}

// runContainers starts init containers in order, then the app containers,
// and restarts exited ones per restartPolicy.
func (w *podWorker) runContainers(ctx context.Context, pod *corev1.Pod) {
	policy := pod.Spec.RestartPolicy
	now := time.Now()
	for _, c := range w.ctrs {
		if !c.init {
			continue
		}
		sidecar := c.spec.RestartPolicy != nil && *c.spec.RestartPolicy == corev1.ContainerRestartPolicyAlways
		if c.cur == nil {
			w.start(ctx, pod, c)
			if !sidecar {
				return
			}
			continue
		}
		if c.running() {
			if sidecar {
				continue
			}
			return
		}
		// exited
		if c.cur.exitCode == 0 && !sidecar {
			continue
		}
		if policy == corev1.RestartPolicyNever && !sidecar {
			return // computePhase reports Failed
		}
		w.restartLater(ctx, pod, c, now)
		if !sidecar {
			return
		}
	}
	for _, c := range w.ctrs {
		if c.init {
			continue
		}
		if c.cur == nil {
			if c.nextStart.After(now) {
				continue
			}
			w.start(ctx, pod, c)
			continue
		}
		if c.running() {
			continue
		}
		restart := policy == corev1.RestartPolicyAlways || policy == "" ||
			(policy == corev1.RestartPolicyOnFailure && c.cur.exitCode != 0)
		if restart {
			w.restartLater(ctx, pod, c, now)
		}
	}
}

func (w *podWorker) restartLater(ctx context.Context, pod *corev1.Pod, c *ctrState, now time.Time) {
	at := c.cur.finishedAt.Add(w.k.cfg.backoff)
	if now.Before(at) {
		w.kickAfter(at.Sub(now) + 5*time.Millisecond)
		return
	}
	w.start(ctx, pod, c)
}

func (w *podWorker) computePhase(pod *corev1.Pod) corev1.PodPhase {
	if !w.sandboxOK {
		return corev1.PodPending
	}
	policy := pod.Spec.RestartPolicy
	for _, c := range w.ctrs {
		if !c.init || (c.spec.RestartPolicy != nil && *c.spec.RestartPolicy == corev1.ContainerRestartPolicyAlways) {
			continue
		}
		if c.cur == nil || c.running() {
			return corev1.PodPending
		}
		if c.cur.exitCode != 0 {
			if policy == corev1.RestartPolicyNever {
				return corev1.PodFailed
			}
			return corev1.PodPending
		}
	}
	running, failed, succeeded, waiting := 0, 0, 0, 0
	for _, c := range w.ctrs {
		if c.init {
			continue
		}
		switch {
		case c.cur == nil:
			waiting++
		case c.running():
			running++
		case c.cur.exitCode == 0:
			succeeded++
		default:
			failed++
		}
	}
	if waiting > 0 {
		if running+succeeded+failed > 0 {
			return corev1.PodRunning // e.g. a container that cannot be created while others run
		}
		return corev1.PodPending
	}
	if running > 0 {
		return corev1.PodRunning
	}
	// everything exited
	switch policy {
	case corev1.RestartPolicyNever:
		if failed > 0 {
			return corev1.PodFailed
		}
		return corev1.PodSucceeded
	case corev1.RestartPolicyOnFailure:
		if failed > 0 {
			return corev1.PodRunning // restarting
		}
		return corev1.PodSucceeded
	default:
		if w.terminal { // killed for deletion
			if failed > 0 {
				return corev1.PodFailed
			}
			return corev1.PodSucceeded
		}
		return corev1.PodRunning // restarting
	}
}

// setupSandbox creates the pod folder, network namespace, service-account
// token and volumes.
func (w *podWorker) setupSandbox(ctx context.Context, pod *corev1.Pod) error {
	if w.startTime == nil {
		t := metav1.Now()
		w.startTime = &t
	}
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		return err
	}
	if pod.Spec.HostNetwork {
		w.hostNet = true
		w.ip = netip.MustParseAddr(w.k.cfg.nodeIP)
	} else {
		if !w.ip.IsValid() {
			ip, err := w.k.ipam.allocate(string(pod.UID))
			if err != nil {
				return err
			}
			w.ip = ip
		}
		ns, err := setupNetns(string(pod.UID), w.k.cfg.bridge, w.ip, w.k.cfg.prefixLen, w.k.cfg.nodeIP)
		if err != nil {
			return err
		}
		w.netns = ns
	}
	w.netDown = false
	if w.automountToken(ctx, pod) {
		w.saDir = filepath.Join(w.dir, "sa")
		if err := w.writeSA(ctx, pod); err != nil {
			return err
		}
	}
	if err := w.setupVolumes(ctx, pod); err != nil {
		return err
	}
	klog.Infof("%s: sandbox ready: netns %s, IP %s", podKey(pod), netnsName(string(pod.UID)), w.ip)
	return nil
}

// automountToken: the pod's automountServiceAccountToken, else its
// ServiceAccount's, else true.
func (w *podWorker) automountToken(ctx context.Context, pod *corev1.Pod) bool {
	if pod.Spec.AutomountServiceAccountToken != nil {
		return *pod.Spec.AutomountServiceAccountToken
	}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	if obj, err := w.k.client.CoreV1().ServiceAccounts(pod.Namespace).Get(ctx, sa, metav1.GetOptions{}); err == nil && obj.AutomountServiceAccountToken != nil {
		return *obj.AutomountServiceAccountToken
	}
	return true
}

// writeSA requests a bound service-account token and writes token, ca.crt
// and namespace (atomically: rename).
func (w *podWorker) writeSA(ctx context.Context, pod *corev1.Pod) error {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	tr, err := w.k.client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, &authv1.TokenRequest{
		Spec: authv1.TokenRequestSpec{
			ExpirationSeconds: ptr.To(int64(3607)),
			BoundObjectRef:    &authv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("token for serviceaccount %s/%s: %w", pod.Namespace, sa, err)
	}
	if err := os.MkdirAll(w.saDir, 0o755); err != nil {
		return err
	}
	files := map[string][]byte{"token": []byte(tr.Status.Token), "ca.crt": w.k.caData, "namespace": []byte(pod.Namespace)}
	for name, data := range files {
		if err := writeAtomic(filepath.Join(w.saDir, name), data, 0o644); err != nil {
			return err
		}
	}
	life := time.Until(tr.Status.ExpirationTimestamp.Time)
	w.tokenRenew = time.Now().Add(life * 8 / 10)
	w.kickAfter(life*8/10 + time.Second)
	return nil
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (w *podWorker) secretData(ctx context.Context, ns, name string) (map[string][]byte, error) {
	s, err := w.k.client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	data := map[string][]byte{}
	for k, v := range s.Data {
		data[k] = v
	}
	for k, v := range s.StringData {
		data[k] = []byte(v)
	}
	return data, nil
}

func (w *podWorker) configMapData(ctx context.Context, ns, name string) (map[string]string, error) {
	c, err := w.k.client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	data := map[string]string{}
	for k, v := range c.Data {
		data[k] = v
	}
	for k, v := range c.BinaryData {
		data[k] = string(v)
	}
	return data, nil
}

// baseEnv holds what the image and the runtime define before the pod spec.
func (w *podWorker) baseEnv(pod *corev1.Pod, img *imageEntry) *envList {
	cfg := w.k.cfg
	e := newEnvList()
	e.set("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	e.set("HOSTNAME", podHostname(pod))
	e.set("HOME", "/root")
	if img != nil {
		for _, k := range sortedKeys(img.Env) {
			e.set(k, img.Env[k])
		}
	}
	e.set("KUBERNETES_SERVICE_HOST", cfg.nodeIP)
	e.set("KUBERNETES_SERVICE_PORT", "6443")
	e.set("KUBERNETES_SERVICE_PORT_HTTPS", "6443")
	e.set("KUBERNETES_PORT", "tcp://"+cfg.nodeIP+":6443")
	e.set("KUBERNETES_PORT_443_TCP", "tcp://"+cfg.nodeIP+":6443")
	e.set("KUBERNETES_PORT_443_TCP_PROTO", "tcp")
	e.set("KUBERNETES_PORT_443_TCP_PORT", "6443")
	e.set("KUBERNETES_PORT_443_TCP_ADDR", cfg.nodeIP)
	e.set("CDK_STATE", cfg.state)
	e.set("CDK_CACHE", cfg.cache)
	return e
}

func podHostname(pod *corev1.Pod) string {
	if pod.Spec.Hostname != "" {
		return pod.Spec.Hostname
	}
	return pod.Name
}

// containerEnv computes the full environment of a container.
func (w *podWorker) containerEnv(ctx context.Context, pod *corev1.Pod, c *ctrState, img *imageEntry, termPath string) (*envList, error) {
	env, err := buildEnv(ctx, envInputs{
		pod: pod, container: &c.spec, podIP: w.ip.String(), hostIP: w.k.cfg.nodeIP,
		base: w.baseEnv(pod, img), refs: w,
		nodeCPU: resource.MustParse(w.k.cfg.cpu), nodeMemory: resource.MustParse(w.k.cfg.memory),
	})
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(w.k.cfg.state, "bin")
	if p, _ := env.get("PATH"); !hasPathPrefix(p, bin) {
		env.set("PATH", bin+":"+p)
	}
	if w.saDir != "" {
		env.set("CDK_SA_DIR", w.saDir)
		env.set("KUBERNETES_SA_DIR", w.saDir)
	}
	if termPath != "" {
		env.set("CDK_TERMINATION_LOG", termPath)
	}
	return env, nil
}

func hasPathPrefix(path, dir string) bool {
	return path == dir || len(path) > len(dir) && path[:len(dir)+1] == dir+":"
}

// binds returns the bind mounts of a container: volumes, the
// service-account folder and the termination-log file.
func (w *podWorker) binds(pod *corev1.Pod, c *ctrState, termPath string) []bindMount {
	var out []bindMount
	saCovered := false
	for _, vm := range c.spec.VolumeMounts {
		src, ok := w.volumes[vm.Name]
		if !ok {
			continue
		}
		if vm.SubPath != "" {
			src = filepath.Join(src, vm.SubPath)
			if _, err := os.Stat(src); os.IsNotExist(err) {
				_ = os.MkdirAll(src, 0o755)
			}
		}
		if src == vm.MountPath {
			continue
		}
		if filepath.Clean(vm.MountPath) == saMountPath {
			saCovered = true
		}
		out = append(out, bindMount{Src: src, Dst: vm.MountPath, ReadOnly: vm.ReadOnly})
	}
	if w.hostsFile != "" && !w.hostNet {
		out = append(out, bindMount{Src: w.hostsFile, Dst: "/etc/hosts"}, bindMount{Src: w.resolvFile, Dst: "/etc/resolv.conf"})
	}
	if w.saDir != "" && !saCovered {
		out = append(out, bindMount{Src: w.saDir, Dst: saMountPath, ReadOnly: true})
	}
	if termPath != "" {
		dst := c.spec.TerminationMessagePath
		if dst == "" {
			dst = corev1.TerminationMessagePathDefault
		}
		out = append(out, bindMount{Src: termPath, Dst: dst})
	}
	return out
}

// start starts (or restarts) a container.
func (w *podWorker) start(ctx context.Context, pod *corev1.Pod, c *ctrState) {
	restart := c.cur != nil
	n := int32(0)
	if restart {
		n = c.restartCount + 1
	}
	cdir := filepath.Join(w.dir, c.spec.Name)
	_ = os.MkdirAll(cdir, 0o755)
	termPath := filepath.Join(cdir, fmt.Sprintf("termination-log.%d", n))
	_ = os.WriteFile(termPath, nil, 0o666)

	argv, img, err := w.k.images.argv(c.spec.Image, c.spec.Command, c.spec.Args)
	if err != nil {
		c.waiting = &corev1.ContainerStateWaiting{Reason: "CreateContainerError", Message: err.Error()}
		c.nextStart = time.Now().Add(5 * time.Second)
		w.kickAfter(5 * time.Second)
		return
	}
	env, err := w.containerEnv(ctx, pod, c, img, termPath)
	if err != nil {
		c.waiting = &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: err.Error()}
		c.nextStart = time.Now().Add(2 * time.Second)
		w.kickAfter(2 * time.Second)
		return
	}
	for i := range argv {
		argv[i] = expandVars(argv[i], env.get)
	}
	dir := c.spec.WorkingDir
	if dir == "" && img != nil {
		dir = img.WorkingDir
	}
	logf, err := newLogFile(filepath.Join(cdir, fmt.Sprintf("%d.log", n)))
	if err != nil {
		c.waiting = &corev1.ContainerStateWaiting{Reason: "CreateContainerError", Message: err.Error()}
		w.kickAfter(2 * time.Second)
		return
	}
	run := &ctrRun{id: randomHex(32), log: logf, termPath: termPath, done: make(chan struct{}), startedAt: time.Now()}
	w.mu.Lock()
	if restart {
		c.restartCount = n
		c.lastTerm = w.terminatedState(c.cur)
		c.prev = c.cur
	}
	c.cur, c.env, c.dir, c.waiting, c.ready, c.started = run, env, dir, nil, false, false
	c.imageID = imageID(c.spec.Image)
	w.mu.Unlock()

	if _, err := lookPath(argv[0], func() string { p, _ := env.get("PATH"); return p }()); err != nil {
		// like containerd: the start fails, exit code 128, reason StartError
		msg := fmt.Sprintf("failed to create containerd task: exec: %q: %v", argv[0], err)
		fmt.Fprintln(logf, msg)
		w.finishRun(pod, c, run, 128, 0, "StartError", msg)
		logf.finish()
		return
	}

	hostname := podHostname(pod)
	if w.hostNet {
		hostname = ""
	}
	spec := nsSpec{NetNS: w.netns, Hostname: hostname, Binds: w.binds(pod, c, termPath), Dir: dir, Argv: argv}
	cmd, pr, err := w.k.helperCmd(spec, env.environ(), false)
	if err == nil {
		// Its own PID namespace, as Kubernetes gives each container without
		// shareProcessNamespace: the main process is pid 1 inside (so it
		// ignores signals it has no handler for, SIGKILL aside), exec and
		// hooks join it (nsexec.go), and the kernel kills everything left in
		// it when the main process ends.
		cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWPID
		err = cmd.Start()
		cmd.Stdout.(*os.File).Close()
	}
	if err != nil {
		msg := fmt.Sprintf("start: %v", err)
		w.finishRun(pod, c, run, 128, 0, "StartError", msg)
		logf.finish()
		if pr != nil {
			pr.Close()
		}
		return
	}
	run.pid = cmd.Process.Pid
	_ = os.WriteFile(filepath.Join(cdir, "pid"), []byte(strconv.Itoa(run.pid)), 0o644)
	pumped := make(chan struct{})
	go func() { logf.pump(pr); close(pumped) }()
	pctx, cancel := context.WithCancel(w.k.ctx)
	run.cancel = cancel
	klog.Infof("%s: started container %s (pid %d, restart %d): %q", podKey(pod), c.spec.Name, run.pid, n, argv)
	w.k.event(pod, c.spec.Name, corev1.EventTypeNormal, "Started", fmt.Sprintf("Started container %s", c.spec.Name))
	go func() {
		err := cmd.Wait()
		code, sig := int32(0), 0
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				ws := ee.Sys().(syscall.WaitStatus)
				if ws.Signaled() {
					sig = int(ws.Signal())
					code = int32(128 + sig)
				} else {
					code = int32(ws.ExitStatus())
				}
			} else {
				code = 128
			}
		}
		// Like a container runtime, the container ends with its main
		// process: kill whatever it left in its process group.
		_ = syscall.Kill(-run.pid, syscall.SIGKILL)
		select {
		case <-pumped:
		case <-time.After(2 * time.Second):
		}
		logf.finish()
		reason := "Completed"
		if code != 0 {
			reason = "Error"
		}
		w.finishRun(pod, c, run, code, sig, reason, "")
		cancel()
		w.kick()
	}()
	w.startProbes(pctx, pod, c, run)
	if h := c.spec.Lifecycle; h != nil && h.PostStart != nil {
		go func() {
			if err := w.runHandler(pctx, pod, c, h.PostStart, 30*time.Second); err != nil {
				klog.Warningf("%s: postStart hook of %s failed: %v", podKey(pod), c.spec.Name, err)
				w.k.event(pod, c.spec.Name, corev1.EventTypeWarning, "FailedPostStartHook", err.Error())
				_ = syscall.Kill(-run.pid, syscall.SIGKILL)
			}
		}()
	}
}

// finishRun records the end of a run (termination message included) and
// closes run.done.
func (w *podWorker) finishRun(pod *corev1.Pod, c *ctrState, run *ctrRun, code int32, sig int, reason, msg string) {
	if msg == "" {
		data, _ := os.ReadFile(run.termPath)
		if len(data) > 4096 {
			data = data[:4096]
		}
		msg = string(data)
		if msg == "" && code != 0 && c.spec.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError {
			msg = run.log.tail(80, 2048)
		}
	}
	w.mu.Lock()
	run.exitCode, run.signal, run.finishedAt, run.reason, run.message = code, sig, time.Now(), reason, msg
	w.mu.Unlock()
	close(run.done)
	klog.Infof("%s: container %s exited with %d (%s)", podKey(pod), c.spec.Name, code, reason)
}

func (w *podWorker) terminatedState(r *ctrRun) *corev1.ContainerStateTerminated {
	if r == nil || !r.exited() {
		return nil
	}
	return &corev1.ContainerStateTerminated{
		ExitCode: r.exitCode, Signal: int32(r.signal), Reason: r.reason, Message: r.message,
		StartedAt: metav1.NewTime(r.startedAt), FinishedAt: metav1.NewTime(r.finishedAt),
		ContainerID: "cdk://" + r.id,
	}
}

// helperCmd prepares the nsexec helper: own process group and fresh mount
// and UTS namespaces. With tty=false, stdout and stderr go to a new pipe
// whose read end is returned.
func (k *kubelet) helperCmd(spec nsSpec, env []string, tty bool) (*exec.Cmd, *os.File, error) {
	js, err := json.Marshal(spec)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command("/proc/self/exe", nsexecArg, string(js))
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:      !tty,
		Unshareflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS,
	}
	if tty {
		return cmd, nil, nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	return cmd, pr, nil
}

func (w *podWorker) stopProbes() {
	for _, c := range w.ctrs {
		if c.cur != nil && c.cur.cancel != nil {
			c.cur.cancel()
		}
	}
}

// killAll stops every running container: preStop hook (when hooks), SIGTERM
// to the process group, the rest of the grace period (counted from the
// hook's start, at least 2 s as in the kubelet), SIGKILL.
func (w *podWorker) killAll(pod *corev1.Pod, grace time.Duration, hooks bool) {
	w.stopProbes()
	var wg sync.WaitGroup
	for _, c := range w.ctrs {
		if !c.running() {
			continue
		}
		wg.Add(1)
		go func(c *ctrState, run *ctrRun) {
			defer wg.Done()
			start := time.Now()
			// the status keeps following the containers while the pod
			// terminates: one that exits (during its preStop hook too, e.g.
			// a decommissioned node) shows as terminated at once
			stopped, watched := make(chan struct{}), make(chan struct{})
			defer func() { close(stopped); <-watched }()
			go func() {
				defer close(watched)
				select {
				case <-run.done:
					w.syncStatus(w.k.ctx, w.getPod())
				case <-stopped:
				}
			}()
			w.k.event(pod, c.spec.Name, corev1.EventTypeNormal, "Killing", fmt.Sprintf("Stopping container %s", c.spec.Name))
			if hooks && c.spec.Lifecycle != nil && c.spec.Lifecycle.PreStop != nil && grace > 0 {
				klog.Infof("%s: running preStop hook of %s", podKey(pod), c.spec.Name)
				hctx, cancel := context.WithTimeout(context.Background(), grace)
				err := w.runHandler(hctx, pod, c, c.spec.Lifecycle.PreStop, grace)
				cancel()
				if err != nil {
					klog.Warningf("%s: preStop hook of %s: %v", podKey(pod), c.spec.Name, err)
					w.k.event(pod, c.spec.Name, corev1.EventTypeWarning, "FailedPreStopHook", err.Error())
				}
			}
			rest := grace - time.Since(start)
			if rest < 2*time.Second {
				rest = 2 * time.Second
			}
			if run.exited() {
				return // ended during its preStop hook (e.g. a decommissioned node)
			}
			klog.Infof("%s: SIGTERM to container %s (pid %d), %s left", podKey(pod), c.spec.Name, run.pid, rest.Round(time.Millisecond))
			_ = syscall.Kill(-run.pid, syscall.SIGTERM)
			select {
			case <-run.done:
				return
			case <-time.After(rest):
			}
			klog.Infof("%s: SIGKILL to container %s (pid %d)", podKey(pod), c.spec.Name, run.pid)
			_ = syscall.Kill(-run.pid, syscall.SIGKILL)
			select {
			case <-run.done:
			case <-time.After(5 * time.Second):
			}
		}(c, c.cur)
	}
	wg.Wait()
	// anything else left in the netns
	if w.netns != "" {
		killNetnsProcs(netnsName(string(w.uid)), syscall.SIGKILL)
	}
}

func (w *podWorker) teardown() {
	if w.netDown {
		return
	}
	if (w.netns != "" || w.ip.IsValid()) && !w.hostNet {
		teardownNetns(string(w.uid))
	}
	if w.ip.IsValid() && !w.hostNet {
		w.k.ipam.release(w.ip)
	}
	if w.hostsFile != "" {
		w.k.setHostsEntry(w.uid, nil)
	}
	w.netDown = true
}

// shutdown is the kubelet's own stop: kill without hooks, keep the API
// objects.
func (w *podWorker) shutdown() {
	w.killAll(w.getPod(), 2*time.Second, false)
	w.teardown()
}

func randomHex(n int) string {
	b := make([]byte, n)
	f, _ := os.Open("/dev/urandom")
	if f != nil {
		_, _ = f.Read(b)
		f.Close()
	}
	const hexd = "0123456789abcdef"
	out := make([]byte, 2*n)
	for i, c := range b {
		out[2*i], out[2*i+1] = hexd[c>>4], hexd[c&15]
	}
	return string(out)
}

var _ = apierrors.IsNotFound
var _ = equality.Semantic
