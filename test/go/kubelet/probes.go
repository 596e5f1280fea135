package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/klog/v2"
)

// probeTiming returns the spec's timing with the API defaults filled in.
type probeTiming struct {
	initialDelay, period, timeout time.Duration
	success, failure              int
}

func timingOf(p *corev1.Probe) probeTiming {
	t := probeTiming{
		initialDelay: time.Duration(p.InitialDelaySeconds) * time.Second,
		period:       time.Duration(p.PeriodSeconds) * time.Second,
		timeout:      time.Duration(p.TimeoutSeconds) * time.Second,
		success:      int(p.SuccessThreshold),
		failure:      int(p.FailureThreshold),
	}
	if t.period <= 0 {
		t.period = 10 * time.Second
	}
	if t.timeout <= 0 {
		t.timeout = time.Second
	}
	if t.success <= 0 {
		t.success = 1
	}
	if t.failure <= 0 {
		t.failure = 3
	}
	return t
}

// prober tracks consecutive results the way the kubelet does: the result
// flips to success after `success` consecutive successes and to failure
// after `failure` consecutive failures.
type prober struct {
	t             probeTiming
	result        bool
	okRun, badRun int
}

// observe feeds one probe outcome.
func (p *prober) observe(ok bool) {
	if ok {
		p.okRun++
		p.badRun = 0
		if p.okRun >= p.t.success {
			p.result = true
		}
		return
	}
	p.badRun++
	p.okRun = 0
	if p.badRun >= p.t.failure {
		p.result = false
	}
}

func (w *podWorker) startProbes(ctx context.Context, pod *corev1.Pod, c *ctrState, run *ctrRun) {
	spec := c.spec
	startedCh := make(chan struct{})
	if spec.StartupProbe == nil {
		w.mu.Lock()
		c.started = true
		w.mu.Unlock()
		close(startedCh)
	} else {
		go w.probeLoop(ctx, pod, c, run, "Startup", spec.StartupProbe, func(ok bool, p *prober) bool {
			if ok {
				w.mu.Lock()
				c.started = true
				w.mu.Unlock()
				close(startedCh)
				w.kick()
				return false // stop
			}
			if p.badRun >= p.t.failure {
				w.k.event(pod, spec.Name, corev1.EventTypeWarning, "Unhealthy", "Startup probe failed")
				w.killForRestart(pod, c, run)
				return false
			}
			return true
		})
	}
	if spec.ReadinessProbe == nil {
		go func() {
			select {
			case <-ctx.Done():
				return
			case <-startedCh:
			}
			w.mu.Lock()
			c.ready = true
			w.mu.Unlock()
			w.kick()
		}()
	} else {
		go func() {
			select {
			case <-ctx.Done():
				return
			case <-startedCh:
			}
			w.probeLoop(ctx, pod, c, run, "Readiness", spec.ReadinessProbe, func(ok bool, p *prober) bool {
				w.mu.Lock()
				changed := c.ready != p.result
				c.ready = p.result
				w.mu.Unlock()
				if changed {
					w.kick()
				}
				return true
			})
		}()
	}
	if spec.LivenessProbe != nil {
		go func() {
			select {
			case <-ctx.Done():
				return
			case <-startedCh:
			}
			w.probeLoop(ctx, pod, c, run, "Liveness", spec.LivenessProbe, func(ok bool, p *prober) bool {
				if !ok && p.badRun >= p.t.failure {
					w.k.event(pod, spec.Name, corev1.EventTypeWarning, "Unhealthy", "Liveness probe failed")
					w.killForRestart(pod, c, run)
					return false
				}
				return true
			})
		}()
	}
}

// probeLoop runs a probe every period after the initial delay, calling
// onResult after each try until it returns false or ctx ends.
func (w *podWorker) probeLoop(ctx context.Context, pod *corev1.Pod, c *ctrState, run *ctrRun, kind string, probe *corev1.Probe, onResult func(bool, *prober) bool) {
	p := &prober{t: timingOf(probe)}
	p.result = kind == "Liveness" // liveness starts healthy, the others not
	select {
	case <-ctx.Done():
		return
	case <-time.After(p.t.initialDelay):
	}
	tick := time.NewTicker(p.t.period)
	defer tick.Stop()
	for {
		err := w.probeOnce(ctx, pod, c, probe, p.t.timeout)
		if ctx.Err() != nil {
			return
		}
		ok := err == nil
		if !ok {
			klog.V(2).Infof("%s: %s probe of %s failed: %v", podKey(pod), kind, c.spec.Name, err)
		}
		p.observe(ok)
		if !onResult(ok, p) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (w *podWorker) killForRestart(pod *corev1.Pod, c *ctrState, run *ctrRun) {
	grace := 30 * time.Second
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	klog.Infof("%s: probe failure, restarting container %s", podKey(pod), c.spec.Name)
	_ = syscall.Kill(-run.pid, syscall.SIGTERM)
	go func() {
		select {
		case <-run.done:
		case <-time.After(grace):
			_ = syscall.Kill(-run.pid, syscall.SIGKILL)
		}
	}()
}

func resolvePort(c *corev1.Container, port intstr.IntOrString) (int, error) {
	if port.Type == intstr.Int {
		return port.IntValue(), nil
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return int(p.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(port.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("port %q not found", port.StrVal)
}

func (w *podWorker) probeOnce(ctx context.Context, pod *corev1.Pod, c *ctrState, probe *corev1.Probe, timeout time.Duration) error {
	return w.handle(ctx, pod, c, probe.ProbeHandler.Exec, probe.ProbeHandler.HTTPGet, probe.ProbeHandler.TCPSocket, probe.ProbeHandler.GRPC, timeout)
}

// runHandler runs a lifecycle hook.
func (w *podWorker) runHandler(ctx context.Context, pod *corev1.Pod, c *ctrState, h *corev1.LifecycleHandler, timeout time.Duration) error {
	if h.Sleep != nil {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(h.Sleep.Seconds) * time.Second):
			return nil
		}
	}
	return w.handle(ctx, pod, c, h.Exec, h.HTTPGet, h.TCPSocket, nil, timeout)
}

func (w *podWorker) handle(ctx context.Context, pod *corev1.Pod, c *ctrState, ex *corev1.ExecAction, hg *corev1.HTTPGetAction, ts *corev1.TCPSocketAction, gr *corev1.GRPCAction, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case ex != nil:
		var out bytes.Buffer
		code, err := w.k.execInPod(ctx, w, c, ex.Command, nil, &out, &out, false, nil)
		if err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("command %q exited with %d: %s", ex.Command, code, strings.TrimSpace(out.String()))
		}
		return nil
	case hg != nil:
		port, err := resolvePort(&c.spec, hg.Port)
		if err != nil {
			return err
		}
		host := hg.Host
		if host == "" {
			host = w.ip.String()
		}
		scheme := strings.ToLower(string(hg.Scheme))
		if scheme == "" {
			scheme = "http"
		}
		path := hg.Path
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		url := fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(host, strconv.Itoa(port)), path)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("User-Agent", "kube-probe/1.37")
		for _, h := range hg.HTTPHeaders {
			req.Header.Set(h.Name, h.Value)
		}
		tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("HTTP probe failed with statuscode: %d", resp.StatusCode)
		}
		return nil
	case ts != nil:
		port, err := resolvePort(&c.spec, ts.Port)
		if err != nil {
			return err
		}
		host := ts.Host
		if host == "" {
			host = w.ip.String()
		}
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return conn.Close()
	case gr != nil:
		// no gRPC health client here: a TCP connect stands in for it
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort(w.ip.String(), strconv.Itoa(int(gr.Port))))
		if err != nil {
			return err
		}
		return conn.Close()
	}
	return fmt.Errorf("no handler")
}
