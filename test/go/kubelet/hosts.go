package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Name resolution inside pods. There is no cluster DNS: like the kubelet,
// each pod gets its own /etc/hosts (bind-mounted), which here also lists the
// stable names of every pod of the node that has a hostname and subdomain
// (StatefulSet pods: <pod>.<service>[.<ns>[.svc[.cluster.local]]]) and the
// apiserver's service names; it is rewritten in place when pods come and go.
// /etc/resolv.conf points at the pod's own loopback, where nothing answers,
// so lookups of other names fail at once instead of leaving the machine.

type hostsEntry struct {
	ip, line, file string
}

func podHostsLine(pod *corev1.Pod, ip string) string {
	h := podHostname(pod)
	if pod.Spec.Subdomain == "" {
		return fmt.Sprintf("%s\t%s", ip, h)
	}
	base := h + "." + pod.Spec.Subdomain
	ns := base + "." + pod.Namespace
	return fmt.Sprintf("%s\t%s.svc.cluster.local %s.svc %s %s %s", ip, ns, ns, ns, base, h)
}

func (k *kubelet) hostsHeader() string {
	return "# written by the cdk process kubelet\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
		k.cfg.nodeIP + "\tkubernetes kubernetes.default kubernetes.default.svc kubernetes.default.svc.cluster.local\n"
}

// setHostsEntry registers (or with ip == "" removes) a pod's entry and
// rewrites every pod's hosts file.
func (k *kubelet) setHostsEntry(uid types.UID, e *hostsEntry) {
	k.mu.Lock()
	if k.hosts == nil {
		k.hosts = map[types.UID]*hostsEntry{}
	}
	if e == nil {
		delete(k.hosts, uid)
	} else {
		k.hosts[uid] = e
	}
	entries := make([]*hostsEntry, 0, len(k.hosts))
	for _, e := range k.hosts {
		entries = append(entries, e)
	}
	k.mu.Unlock()
	sort.Slice(entries, func(i, j int) bool { return entries[i].ip < entries[j].ip })
	k.hostsMu.Lock()
	defer k.hostsMu.Unlock()
	for _, own := range entries {
		var b strings.Builder
		b.WriteString(k.hostsHeader())
		b.WriteString(own.line + "\n")
		b.WriteString("# pods of node " + k.cfg.nodeName + "\n")
		for _, e := range entries {
			if e != own {
				b.WriteString(e.line + "\n")
			}
		}
		// in place (same inode): the file is bind-mounted at /etc/hosts
		_ = os.WriteFile(own.file, []byte(b.String()), 0o644)
	}
}

// writePodNameFiles creates the pod's hosts and resolv.conf files.
func (w *podWorker) writeNameFiles(pod *corev1.Pod) {
	line := podHostsLine(pod, w.ip.String())
	for _, a := range pod.Spec.HostAliases {
		line += "\n" + a.IP + "\t" + strings.Join(a.Hostnames, " ")
	}
	w.hostsFile = filepath.Join(w.dir, "etc-hosts")
	w.resolvFile = filepath.Join(w.dir, "resolv.conf")
	search := pod.Namespace + ".svc.cluster.local svc.cluster.local cluster.local"
	_ = os.WriteFile(w.resolvFile, []byte("# no cluster DNS: names of pods and the apiserver are in /etc/hosts\nnameserver 127.0.0.1\nsearch "+search+"\noptions timeout:1 attempts:1\n"), 0o644)
	if _, err := os.Stat(w.hostsFile); err != nil {
		_ = os.WriteFile(w.hostsFile, nil, 0o644)
	}
	w.k.setHostsEntry(w.uid, &hostsEntry{ip: w.ip.String(), line: line, file: w.hostsFile})
}
