package main

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// expandVars expands $(VAR) references the way the kubelet does for env
// values, command and args: $(VAR) is replaced when VAR is defined and kept
// verbatim otherwise, $$ is an escaped $, and any other $ is literal.
func expandVars(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok && name != "" {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// envList is an ordered environment where later definitions replace earlier
// ones but keep their position.
type envList struct {
	names []string
	vals  map[string]string
}

func newEnvList() *envList { return &envList{vals: map[string]string{}} }

func (e *envList) set(k, v string) {
	if _, ok := e.vals[k]; !ok {
		e.names = append(e.names, k)
	}
	e.vals[k] = v
}

func (e *envList) get(k string) (string, bool) { v, ok := e.vals[k]; return v, ok }

func (e *envList) environ() []string {
	out := make([]string, 0, len(e.names))
	for _, k := range e.names {
		out = append(out, k+"="+e.vals[k])
	}
	return out
}

// refResolver reads secrets and config maps (through the API).
type refResolver interface {
	secretData(ctx context.Context, ns, name string) (map[string][]byte, error)
	configMapData(ctx context.Context, ns, name string) (map[string]string, error)
}

type envInputs struct {
	pod       *corev1.Pod
	container *corev1.Container
	podIP     string
	hostIP    string
	base      *envList // image defaults, service env and kubelet vars, applied first
	refs      refResolver
	// node allocatable, for resourceFieldRef without limits
	nodeCPU, nodeMemory resource.Quantity
}

// buildEnv computes the container environment in the kubelet's order:
// defaults, then envFrom, then env (each value expanded against what was
// defined before it).
func buildEnv(ctx context.Context, in envInputs) (*envList, error) {
	env := newEnvList()
	if in.base != nil {
		for _, k := range in.base.names {
			env.set(k, in.base.vals[k])
		}
	}
	c := in.container
	ns := in.pod.Namespace
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			data, err := in.refs.configMapData(ctx, ns, ef.ConfigMapRef.Name)
			if err != nil {
				if isOptional(ef.ConfigMapRef.Optional) {
					continue
				}
				return nil, fmt.Errorf("configmap %q not found", ef.ConfigMapRef.Name)
			}
			for _, k := range sortedKeys(data) {
				env.set(ef.Prefix+k, data[k])
			}
		case ef.SecretRef != nil:
			data, err := in.refs.secretData(ctx, ns, ef.SecretRef.Name)
			if err != nil {
				if isOptional(ef.SecretRef.Optional) {
					continue
				}
				return nil, fmt.Errorf("secret %q not found", ef.SecretRef.Name)
			}
			keys := make([]string, 0, len(data))
			for k := range data {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				env.set(ef.Prefix+k, string(data[k]))
			}
		}
	}
	for _, ev := range c.Env {
		if ev.ValueFrom == nil {
			env.set(ev.Name, expandVars(ev.Value, env.get))
			continue
		}
		v, skip, err := resolveValueFrom(ctx, in, ev.ValueFrom)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", ev.Name, err)
		}
		if !skip {
			env.set(ev.Name, v)
		}
	}
	return env, nil
}

func isOptional(p *bool) bool { return p != nil && *p }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func resolveValueFrom(ctx context.Context, in envInputs, vf *corev1.EnvVarSource) (string, bool, error) {
	ns := in.pod.Namespace
	switch {
	case vf.FieldRef != nil:
		v, err := podField(in.pod, vf.FieldRef.FieldPath, in.podIP, in.hostIP)
		return v, false, err
	case vf.ResourceFieldRef != nil:
		v, err := resourceField(in, vf.ResourceFieldRef)
		return v, false, err
	case vf.SecretKeyRef != nil:
		r := vf.SecretKeyRef
		data, err := in.refs.secretData(ctx, ns, r.Name)
		if err != nil {
			if isOptional(r.Optional) {
				return "", true, nil
			}
			return "", false, fmt.Errorf("secret %q not found", r.Name)
		}
		v, ok := data[r.Key]
		if !ok {
			if isOptional(r.Optional) {
				return "", true, nil
			}
			return "", false, fmt.Errorf("couldn't find key %s in Secret %s/%s", r.Key, ns, r.Name)
		}
		return string(v), false, nil
	case vf.ConfigMapKeyRef != nil:
		r := vf.ConfigMapKeyRef
		data, err := in.refs.configMapData(ctx, ns, r.Name)
		if err != nil {
			if isOptional(r.Optional) {
				return "", true, nil
			}
			return "", false, fmt.Errorf("configmap %q not found", r.Name)
		}
		v, ok := data[r.Key]
		if !ok {
			if isOptional(r.Optional) {
				return "", true, nil
			}
			return "", false, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", r.Key, ns, r.Name)
		}
		return v, false, nil
	}
	return "", true, nil
}

// podField implements the downward API field paths.
func podField(pod *corev1.Pod, path, podIP, hostIP string) (string, error) {
	if k, ok := bracketKey(path, "metadata.labels"); ok {
		return pod.Labels[k], nil
	}
	if k, ok := bracketKey(path, "metadata.annotations"); ok {
		return pod.Annotations[k], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP", "status.podIPs":
		return podIP, nil
	case "status.hostIP", "status.hostIPs":
		return hostIP, nil
	}
	return "", fmt.Errorf("unsupported fieldPath %q", path)
}

func bracketKey(path, prefix string) (string, bool) {
	if !strings.HasPrefix(path, prefix+"[") || !strings.HasSuffix(path, "]") {
		return "", false
	}
	k := path[len(prefix)+1 : len(path)-1]
	k = strings.Trim(k, `'"`)
	return k, true
}

func formatMap(m map[string]string) string {
	var lines []string
	for _, k := range sortedKeys(m) {
		lines = append(lines, fmt.Sprintf("%s=%q", k, m[k]))
	}
	return strings.Join(lines, "\n")
}

func resourceField(in envInputs, r *corev1.ResourceFieldSelector) (string, error) {
	c := in.container
	if r.ContainerName != "" {
		c = nil
		for i := range in.pod.Spec.Containers {
			if in.pod.Spec.Containers[i].Name == r.ContainerName {
				c = &in.pod.Spec.Containers[i]
			}
		}
		if c == nil {
			return "", fmt.Errorf("container %q not found", r.ContainerName)
		}
	}
	var q resource.Quantity
	var ok bool
	name := r.Resource
	switch {
	case strings.HasPrefix(name, "limits."):
		q, ok = c.Resources.Limits[corev1.ResourceName(strings.TrimPrefix(name, "limits."))]
	case strings.HasPrefix(name, "requests."):
		q, ok = c.Resources.Requests[corev1.ResourceName(strings.TrimPrefix(name, "requests."))]
	default:
		return "", fmt.Errorf("unsupported resource %q", name)
	}
	if !ok {
		switch {
		case strings.HasSuffix(name, ".cpu") && strings.HasPrefix(name, "limits."):
			q = in.nodeCPU
		case strings.HasSuffix(name, ".memory") && strings.HasPrefix(name, "limits."):
			q = in.nodeMemory
		default:
			q = resource.MustParse("0")
		}
	}
	div := r.Divisor
	if div.IsZero() {
		div = resource.MustParse("1")
	}
	if strings.HasSuffix(name, ".cpu") {
		v := math.Ceil(float64(q.MilliValue()) / float64(div.MilliValue()))
		return fmt.Sprintf("%d", int64(v)), nil
	}
	v := math.Ceil(float64(q.Value()) / float64(div.Value()))
	return fmt.Sprintf("%d", int64(v)), nil
}

var _ = metav1.Now
