package main

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
)

// ipam hands out pod IPs from 10.88.1.10 upward inside 10.88.0.0/16,
// round-robin (the next address after the last one given out) so a freed
// address is not reused at once - that keeps stale ARP entries and
// connections of a deleted pod away from its successor.
type ipam struct {
	mu    sync.Mutex
	state string // file keeping `next` across kubelet restarts ("" = none)
	first netip.Addr
	last  netip.Addr
	next  netip.Addr
	used  map[netip.Addr]string
}

func newIPAM(first, last string) *ipam {
	f := netip.MustParseAddr(first)
	return &ipam{first: f, last: netip.MustParseAddr(last), next: f, used: map[netip.Addr]string{}}
}

func usable(a netip.Addr) bool {
	b := a.As4()
	return b[3] != 0 && b[3] != 255
}

func (p *ipam) allocate(owner string) (netip.Addr, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for a, o := range p.used {
		if o == owner {
			return a, nil
		}
	}
	a := p.next
	for range 1 << 16 {
		if a.Compare(p.last) > 0 || !a.IsValid() {
			a = p.first
		}
		if _, taken := p.used[a]; !taken && usable(a) {
			p.used[a] = owner
			p.next = a.Next()
			if p.state != "" {
				_ = os.WriteFile(p.state, []byte(p.next.String()), 0o644)
			}
			return a, nil
		}
		a = a.Next()
	}
	return netip.Addr{}, fmt.Errorf("no free pod IP left")
}

// persist keeps the round-robin position in path (read now, written on
// every allocation), so a restarted kubelet does not hand out the addresses
// of the pods it just lost again at once.
func (p *ipam) persist(path string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = path
	if data, err := os.ReadFile(path); err == nil {
		if a, err := netip.ParseAddr(strings.TrimSpace(string(data))); err == nil && a.Compare(p.first) >= 0 && a.Compare(p.last) <= 0 {
			p.next = a
		}
	}
}

func (p *ipam) release(a netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.used, a)
}
