package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestExpandVars(t *testing.T) {
	env := map[string]string{"A": "1", "B": "two", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cases := map[string]string{
		"plain":                   "plain",
		"$(A)":                    "1",
		"x$(A)y$(B)z":             "x1ytwoz",
		"$(MISSING)":              "$(MISSING)",
		"$$(A)":                   "$(A)",
		"$$":                      "$",
		"a$b":                     "a$b",
		"$(A":                     "$(A",
		"$(EMPTY)|":               "|",
		"$":                       "$",
		"$()":                     "$()",
		"-Cnode.name=$(HOSTNAME)": "-Cnode.name=$(HOSTNAME)",
	}
	for in, want := range cases {
		if got := expandVars(in, lookup); got != want {
			t.Errorf("expandVars(%q) = %q, want %q", in, got, want)
		}
	}
}

type fakeRefs struct{}

func (fakeRefs) secretData(_ context.Context, ns, name string) (map[string][]byte, error) {
	if name == "s" {
		return map[string][]byte{"pw": []byte("secret!")}, nil
	}
	return nil, context.DeadlineExceeded
}
func (fakeRefs) configMapData(_ context.Context, ns, name string) (map[string]string, error) {
	if name == "cm" {
		return map[string]string{"k": "v", "x": "y"}, nil
	}
	return nil, context.DeadlineExceeded
}

func TestBuildEnv(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p-0", Namespace: "ns", UID: "u-1", Labels: map[string]string{"app": "crate"}},
		Spec: corev1.PodSpec{NodeName: "cdk-node-1"}}
	c := &corev1.Container{
		EnvFrom: []corev1.EnvFromSource{{Prefix: "CM_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}},
		Env: []corev1.EnvVar{
			{Name: "NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "NS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
			{Name: "IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: "APP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
			{Name: "PW", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "pw"}}},
			{Name: "K", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}, Key: "k"}}},
			{Name: "COMBO", Value: "$(NAME).$(NS)@$(IP) $(UNDEF) $$(NAME)"},
		},
	}
	base := newEnvList()
	base.set("HOSTNAME", "p-0")
	env, err := buildEnv(context.Background(), envInputs{pod: pod, container: c, podIP: "10.88.1.10", hostIP: "10.88.0.1", base: base, refs: fakeRefs{}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"NAME": "p-0", "NS": "ns", "IP": "10.88.1.10", "APP": "crate", "PW": "secret!", "K": "v",
		"CM_k": "v", "CM_x": "y", "COMBO": "p-0.ns@10.88.1.10 $(UNDEF) $(NAME)", "HOSTNAME": "p-0"}
	for k, v := range want {
		if got, _ := env.get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	c.Env = append(c.Env, corev1.EnvVar{Name: "BAD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Key: "x"}}})
	if _, err := buildEnv(context.Background(), envInputs{pod: pod, container: c, refs: fakeRefs{}}); err == nil {
		t.Error("missing secret: want error")
	}
}

func TestIPAM(t *testing.T) {
	p := newIPAM("10.88.1.253", "10.88.2.2")
	var got []string
	for i := range 4 {
		a, err := p.allocate(string(rune('a' + i)))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, a.String())
	}
	// .255 and .0 are skipped
	if strings.Join(got, ",") != "10.88.1.253,10.88.1.254,10.88.2.1,10.88.2.2" {
		t.Fatalf("got %v", got)
	}
	if _, err := p.allocate("e"); err == nil {
		t.Fatal("want exhaustion")
	}
	a, _ := p.allocate("b") // same owner -> same IP
	if a.String() != "10.88.1.254" {
		t.Fatalf("owner reuse: %v", a)
	}
	p.release(a)
	b, err := p.allocate("f")
	if err != nil || b.String() != "10.88.1.254" {
		t.Fatalf("after release: %v %v", b, err)
	}
}

func TestProber(t *testing.T) {
	p := &prober{t: probeTiming{success: 1, failure: 3}}
	seq := []bool{false, true, false, false, true, false, false, false, true}
	want := []bool{false, true, true, true, true, true, true, false, true}
	for i, ok := range seq {
		p.observe(ok)
		if p.result != want[i] {
			t.Fatalf("step %d: result %v, want %v", i, p.result, want[i])
		}
	}
	p2 := &prober{t: probeTiming{success: 2, failure: 1}}
	p2.observe(true)
	if p2.result {
		t.Fatal("successThreshold 2: ready after 1")
	}
	p2.observe(true)
	if !p2.result {
		t.Fatal("successThreshold 2: not ready after 2")
	}
	d := timingOf(&corev1.Probe{PeriodSeconds: 1})
	if d.period != time.Second || d.failure != 3 || d.timeout != time.Second {
		t.Fatalf("timing defaults: %+v", d)
	}
}

func TestTailText(t *testing.T) {
	data := []byte("a\nb\nc\nd\n")
	if got := tailText(data, 2, 1000); got != "c\nd\n" {
		t.Errorf("got %q", got)
	}
	if got := tailText(data, 10, 1000); got != string(data) {
		t.Errorf("got %q", got)
	}
	if got := tailText(data, 10, 3); got != "\nd\n" {
		t.Errorf("byte cap: got %q", got)
	}
}

func TestLogStream(t *testing.T) {
	dir := t.TempDir()
	lf, err := newLogFile(filepath.Join(dir, "0.log"))
	if err != nil {
		t.Fatal(err)
	}
	lf.Write([]byte("one\ntwo\n"))
	time.Sleep(20 * time.Millisecond)
	mid := time.Now()
	lf.Write([]byte("thr"))
	lf.Write([]byte("ee\nfour\n"))
	read := func(o logOptions) string {
		var b bytes.Buffer
		if err := lf.stream(context.Background(), &b, func() {}, o); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if got := read(logOptions{tailLines: -1}); got != "one\ntwo\nthree\nfour\n" {
		t.Errorf("all: %q", got)
	}
	if got := read(logOptions{tailLines: 2}); got != "three\nfour\n" {
		t.Errorf("tail: %q", got)
	}
	if got := read(logOptions{tailLines: -1, since: mid}); got != "three\nfour\n" {
		t.Errorf("since: %q", got)
	}
	if got := read(logOptions{tailLines: -1, limitBytes: 5}); got != "one\nt" {
		t.Errorf("limit: %q", got)
	}
	if got := read(logOptions{tailLines: 1, timestamps: true}); !strings.HasSuffix(got, "Z four\n") || len(got) < 25 {
		t.Errorf("timestamps: %q", got)
	}
	// follow: gets later lines and ends when the run ends
	var b bytes.Buffer
	done := make(chan struct{})
	pr, pw := ioPipe()
	go func() {
		_ = lf.stream(context.Background(), pw, func() {}, logOptions{tailLines: 0, follow: true})
		pw.Close()
		close(done)
	}()
	readDone := make(chan struct{})
	go func() { b.ReadFrom(pr); close(readDone) }()
	time.Sleep(20 * time.Millisecond)
	lf.Write([]byte("five\n"))
	lf.Write([]byte("six"))
	lf.finish()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("follow did not end")
	}
	<-readDone
	if b.String() != "five\nsix" {
		t.Errorf("follow: %q", b.String())
	}
}

func TestImages(t *testing.T) {
	m := &imageMap{entries: []imageEntry{{Names: []string{"crate", "crate/crate"}, Entrypoint: []string{"/sim", "node"}, Cmd: []string{"-Cdefault=1"}}}}
	argv, _, err := m.argv("docker.io/crate/crate:5.10.1", nil, []string{"-Cnode.name=x"})
	if err != nil || strings.Join(argv, " ") != "/sim node -Cnode.name=x" {
		t.Errorf("args replace cmd: %v %v", argv, err)
	}
	argv, _, _ = m.argv("crate:latest", nil, nil)
	if strings.Join(argv, " ") != "/sim node -Cdefault=1" {
		t.Errorf("default cmd: %v", argv)
	}
	argv, _, _ = m.argv("crate@sha256:abc", []string{"sh", "-c"}, []string{"echo"})
	if strings.Join(argv, " ") != "sh -c echo" {
		t.Errorf("command replaces entrypoint: %v", argv)
	}
	if _, _, err := m.argv("busybox", nil, nil); err == nil {
		t.Error("unknown image without command: want error")
	}
	argv, _, _ = m.argv("busybox:1", nil, []string{"sleep", "1"})
	if strings.Join(argv, " ") != "sleep 1" {
		t.Errorf("unknown image args: %v", argv)
	}
	m.entries[0].Commands = map[string][]string{"/docker-entrypoint.sh": {"/sim", "node"}}
	argv, _, _ = m.argv("crate:5.10", []string{"/docker-entrypoint.sh", "crate"}, []string{"-Cx=1"})
	if strings.Join(argv, " ") != "/sim node crate -Cx=1" {
		t.Errorf("command alias: %v", argv)
	}
	if got := substPlaceholders("$REPO/x:${CDK_STATE}/y:$CDK_CACHE", map[string]string{"REPO": "/r", "CDK_STATE": "/s", "CDK_CACHE": "/c"}); got != "/r/x:/s/y:/c" {
		t.Errorf("placeholders: %q", got)
	}
}

func TestIPAMPersist(t *testing.T) {
	f := filepath.Join(t.TempDir(), "next")
	p := newIPAM("10.88.1.10", "10.88.1.20")
	p.persist(f)
	p.allocate("a")
	p.allocate("b")
	q := newIPAM("10.88.1.10", "10.88.1.20")
	q.persist(f)
	if a, _ := q.allocate("c"); a.String() != "10.88.1.12" {
		t.Fatalf("after restart: %v", a)
	}
}
