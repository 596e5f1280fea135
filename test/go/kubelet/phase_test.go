package main

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func runningRun() *ctrRun { return &ctrRun{id: "r", done: make(chan struct{}), startedAt: time.Now()} }

func exitedRun(code int32) *ctrRun {
	r := &ctrRun{id: "e", done: make(chan struct{}), startedAt: time.Now(), exitCode: code, finishedAt: time.Now()}
	close(r.done)
	return r
}

func TestComputePhase(t *testing.T) {
	k := &kubelet{cfg: config{nodeIP: "10.88.0.1"}}
	mk := func(policy corev1.RestartPolicy, init *ctrRun, runs ...*ctrRun) (*podWorker, *corev1.Pod) {
		pod := &corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: policy}}
		w := &podWorker{k: k, sandboxOK: true}
		if init != nil {
			w.ctrs = append(w.ctrs, &ctrState{spec: corev1.Container{Name: "init"}, init: true, cur: init})
		}
		for i, r := range runs {
			w.ctrs = append(w.ctrs, &ctrState{spec: corev1.Container{Name: string(rune('a' + i))}, cur: r})
		}
		return w, pod
	}
	cases := []struct {
		name string
		w    func() (*podWorker, *corev1.Pod)
		want corev1.PodPhase
	}{
		{"not started", func() (*podWorker, *corev1.Pod) { return mk(corev1.RestartPolicyAlways, nil, nil) }, corev1.PodPending},
		{"running", func() (*podWorker, *corev1.Pod) { return mk(corev1.RestartPolicyAlways, nil, runningRun()) }, corev1.PodRunning},
		{"init running", func() (*podWorker, *corev1.Pod) { return mk(corev1.RestartPolicyAlways, runningRun(), nil) }, corev1.PodPending},
		{"init failed, Never", func() (*podWorker, *corev1.Pod) { return mk(corev1.RestartPolicyNever, exitedRun(1), nil) }, corev1.PodFailed},
		{"init failed, OnFailure", func() (*podWorker, *corev1.Pod) { return mk(corev1.RestartPolicyOnFailure, exitedRun(1), nil) }, corev1.PodPending},
		{"Never, all 0", func() (*podWorker, *corev1.Pod) {
			return mk(corev1.RestartPolicyNever, exitedRun(0), exitedRun(0), exitedRun(0))
		}, corev1.PodSucceeded},
		{"Never, one 3", func() (*podWorker, *corev1.Pod) {
			return mk(corev1.RestartPolicyNever, nil, exitedRun(0), exitedRun(3))
		}, corev1.PodFailed},
		{"Never, one still running", func() (*podWorker, *corev1.Pod) {
			return mk(corev1.RestartPolicyNever, nil, exitedRun(3), runningRun())
		}, corev1.PodRunning},
		{"OnFailure, failed one restarts", func() (*podWorker, *corev1.Pod) { return mk(corev1.RestartPolicyOnFailure, nil, exitedRun(2)) }, corev1.PodRunning},
		{"OnFailure, all 0", func() (*podWorker, *corev1.Pod) { return mk(corev1.RestartPolicyOnFailure, nil, exitedRun(0)) }, corev1.PodSucceeded},
		{"Always, exited restarts", func() (*podWorker, *corev1.Pod) { return mk(corev1.RestartPolicyAlways, nil, exitedRun(0)) }, corev1.PodRunning},
	}
	for _, c := range cases {
		w, pod := c.w()
		if got := w.computePhase(pod); got != c.want {
			t.Errorf("%s: phase %s, want %s", c.name, got, c.want)
		}
	}
	// killed for deletion: terminal by exit codes
	w, pod := mk(corev1.RestartPolicyAlways, nil, exitedRun(143))
	w.terminal = true
	if got := w.computePhase(pod); got != corev1.PodFailed {
		t.Errorf("deleted Always pod with 143: %s", got)
	}
	// native sidecar init container does not hold the pod in Pending
	w, pod = mk(corev1.RestartPolicyNever, runningRun(), exitedRun(0))
	w.ctrs[0].spec.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
	if got := w.computePhase(pod); got != corev1.PodSucceeded {
		t.Errorf("sidecar: %s", got)
	}
}

func TestBuildStatus(t *testing.T) {
	k := &kubelet{cfg: config{nodeIP: "10.88.0.1"}}
	pod := &corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways},
		Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, {Type: "DisruptionTarget", Status: corev1.ConditionTrue}}}}
	w := &podWorker{k: k, sandboxOK: true}
	last := exitedRun(5)
	last.reason, last.message = "Error", "boom"
	c := &ctrState{spec: corev1.Container{Name: "main", Image: "crate:5"}, cur: runningRun(), restartCount: 1, ready: true, started: true,
		lastTerm: w.terminatedState(last)}
	w.ctrs = []*ctrState{c}
	st := w.buildStatus(pod)
	if st.Phase != corev1.PodRunning || st.HostIP != "10.88.0.1" {
		t.Fatalf("phase/hostIP: %+v", st)
	}
	cs := st.ContainerStatuses[0]
	if cs.State.Running == nil || !cs.Ready || cs.RestartCount != 1 || cs.LastTerminationState.Terminated.ExitCode != 5 ||
		cs.LastTerminationState.Terminated.Message != "boom" || cs.Started == nil || !*cs.Started {
		t.Fatalf("container status: %+v", cs)
	}
	conds := map[corev1.PodConditionType]corev1.ConditionStatus{}
	for _, c := range st.Conditions {
		conds[c.Type] = c.Status
	}
	for _, t2 := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady, "DisruptionTarget"} {
		if conds[t2] != corev1.ConditionTrue {
			t.Errorf("condition %s = %q", t2, conds[t2])
		}
	}
	c.ready = false
	st = w.buildStatus(pod)
	for _, cd := range st.Conditions {
		if cd.Type == corev1.PodReady && (cd.Status != corev1.ConditionFalse || cd.Reason != "ContainersNotReady") {
			t.Errorf("not ready: %+v", cd)
		}
	}
}
