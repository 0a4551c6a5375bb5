// Package hosts makes a testnet's hosts: one Linux network namespace per
// node, each with its own IPv4 address on a bridge in the machine's own
// namespace (a veth pair per host), so that nodes are separate hosts to
// each other, and the machine reaches every one of them over the bridge.
// Each namespace sends what it sends to the other hosts through an
// NFQUEUE rule to the shaper (package netem), and may have a tbf qdisc on
// its interface for its uplink's bandwidth.
//
// It uses the machine's ip (iproute2), iptables and tc, as root.
package hosts

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Net is a testnet's hosts: their names and addresses. It is written in
// the testnet's state file, which is how a later command (down, a
// partition) knows them and knows they are the testnet's own.
type Net struct {
	// Bridge joins the hosts; BridgeIP is the machine's address on it.
	Bridge   string       `json:"bridge"`
	BridgeIP netip.Addr   `json:"bridge_ip"`
	Subnet   netip.Prefix `json:"subnet"`
	// Namespaces, Veths (the machine's end of each host's pair) and IPs
	// are by node index.
	Namespaces []string     `json:"namespaces"`
	Veths      []string     `json:"veths"`
	IPs        []netip.Addr `json:"ips"`
	// Rates are the hosts' uplink bandwidths in bits per second (0: no
	// limit).
	Rates []uint64 `json:"rates,omitempty"`
}

// Iface is each host's interface inside its namespace.
const Iface = "eth0"

// Check tells whether this machine can make hosts: root, and the tools.
// Its error says what is missing and what to do instead.
func Check() error {
	if os.Geteuid() != 0 {
		return errors.New("--hosts netns needs root (network namespaces, veth, iptables); run as root, or use --hosts loopback (every node on 127.0.0.1)")
	}
	var missing []string
	for _, tool := range []string{"ip", "iptables", "tc"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("--hosts netns needs %s (Debian: apt-get install iproute2 iptables); or use --hosts loopback",
			strings.Join(missing, " and "))
	}
	return nil
}

// Plan names the hosts of a testnet of n nodes whose folder is dir: the
// names come from the folder, so that the same folder always uses the
// same ones, and the subnet is the first 10.213.X.0/24 from the folder's
// hash that no interface of the machine uses. It makes nothing; Taken
// tells whether the names are free.
func Plan(dir string, n int, rates []uint64) (*Net, error) {
	if n < 1 || n > 250 {
		return nil, fmt.Errorf("hosts: %d nodes: 1 to 250 fit a /24", n)
	}
	fh := fnv.New32a()
	fh.Write([]byte(dir))
	sum := fh.Sum32()
	id := fmt.Sprintf("%04x", sum&0xffff)
	used, err := usedPrefixes()
	if err != nil {
		return nil, err
	}
	var subnet netip.Prefix
	for i := 0; i < 256; i++ {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 213, byte(int(sum>>16) + i), 0}), 24)
		if !overlaps(p, used) {
			subnet = p
			break
		}
	}
	if !subnet.IsValid() {
		return nil, errors.New("hosts: every 10.213.X.0/24 is in use on this machine")
	}
	base := subnet.Addr().As4()
	addr := func(last int) netip.Addr { b := base; b[3] = byte(last); return netip.AddrFrom4(b) }
	h := &Net{Bridge: "cairn" + id, BridgeIP: addr(1), Subnet: subnet}
	for i := 0; i < n; i++ {
		h.Namespaces = append(h.Namespaces, fmt.Sprintf("cairn-%s-%d", id, i))
		h.Veths = append(h.Veths, fmt.Sprintf("cairn%sv%d", id, i))
		h.IPs = append(h.IPs, addr(i+2))
	}
	if rates != nil {
		h.Rates = append([]uint64(nil), rates...)
	}
	return h, nil
}

// Taken returns the names of net that exist on the machine already. Up
// refuses names it did not make: a namespace or link of that name may be
// anyone's.
func (h *Net) Taken() []string {
	var taken []string
	for _, ns := range h.Namespaces {
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			taken = append(taken, "namespace "+ns)
		}
	}
	for _, l := range append([]string{h.Bridge}, h.Veths...) {
		if linkExists(l) {
			taken = append(taken, "link "+l)
		}
	}
	return taken
}

// Create makes the bridge and the hosts, and the rules that queue each
// host's packets to the others to the shaper. On an error it removes what
// it made.
func (h *Net) Create() (err error) {
	defer func() {
		if err != nil {
			_ = h.Destroy()
		}
	}()
	bits := strconv.Itoa(h.Subnet.Bits())
	if err := run("ip", "link", "add", h.Bridge, "type", "bridge"); err != nil {
		return err
	}
	steps := [][]string{
		{"ip", "addr", "add", h.BridgeIP.String() + "/" + bits, "dev", h.Bridge},
		{"ip", "link", "set", h.Bridge, "up"},
	}
	for i, ns := range h.Namespaces {
		ip := h.IPs[i].String()
		steps = append(steps,
			[]string{"ip", "netns", "add", ns},
			[]string{"ip", "link", "add", h.Veths[i], "type", "veth", "peer", "name", Iface, "netns", ns},
			[]string{"ip", "link", "set", h.Veths[i], "master", h.Bridge, "up"},
			[]string{"ip", "-n", ns, "addr", "add", ip + "/" + bits, "dev", Iface},
			[]string{"ip", "-n", ns, "link", "set", Iface, "up"},
			[]string{"ip", "-n", ns, "link", "set", "lo", "up"},
			// What goes to the machine (RPC answers, the explorer)
			// is not the network under test: it passes at once.
			[]string{"ip", "netns", "exec", ns, "iptables", "-w", "-A", "OUTPUT", "-d", h.BridgeIP.String(), "-j", "ACCEPT"},
			// No --queue-bypass: without a shaper, nothing passes.
			[]string{"ip", "netns", "exec", ns, "iptables", "-w", "-A", "OUTPUT", "-o", Iface, "-d", h.Subnet.String(),
				"-j", "NFQUEUE", "--queue-num", "0"},
		)
		if i < len(h.Rates) && h.Rates[i] > 0 {
			steps = append(steps, tbf(ns, h.Rates[i]))
		}
	}
	for _, s := range steps {
		if err := run(s[0], s[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// SetRate limits host i's uplink to rate bits per second, or lifts the
// limit (0), on a running network.
func (h *Net) SetRate(i int, rate uint64) error {
	for len(h.Rates) <= i {
		h.Rates = append(h.Rates, 0)
	}
	switch {
	case rate > 0:
		cmd := tbf(h.Namespaces[i], rate)
		if err := run(cmd[0], cmd[1:]...); err != nil {
			return err
		}
	case h.Rates[i] > 0:
		if err := run("tc", "-n", h.Namespaces[i], "qdisc", "del", "dev", Iface, "root"); err != nil {
			return err
		}
	}
	h.Rates[i] = rate
	return nil
}

// tbf is the command that limits a host's uplink to rate bits per second:
// a bucket of 10 ms of the rate (at least 16 KiB, so that one full-size
// segment always fits) and at most 200 ms of queue.
func tbf(ns string, rate uint64) []string {
	burst := max(rate/8/100, 16<<10)
	return []string{"tc", "-n", ns, "qdisc", "replace", "dev", Iface, "root", "tbf",
		"rate", strconv.FormatUint(rate, 10) + "bit", "burst", strconv.FormatUint(burst, 10), "latency", "200ms"}
}

// Destroy removes the hosts and the bridge: deleting a namespace deletes
// its interfaces (and so their veth peers), its rules and its qdiscs. It
// removes what exists and reports what it could not.
func (h *Net) Destroy() error {
	var errs []error
	for _, ns := range h.Namespaces {
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			if err := run("ip", "netns", "del", ns); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, l := range append(append([]string(nil), h.Veths...), h.Bridge) {
		// A veth goes with its namespace's end, a moment after the
		// namespace: gone by the time it is deleted is no failure.
		if linkExists(l) {
			if err := run("ip", "link", "del", l); err != nil && linkExists(l) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Exists reports whether any of net's namespaces or links is still there.
func (h *Net) Exists() bool { return len(h.Taken()) > 0 }

// Command returns the argv that runs argv in host i's namespace.
func (h *Net) Command(i int, argv ...string) []string {
	return append([]string{"ip", "netns", "exec", h.Namespaces[i]}, argv...)
}

func linkExists(name string) bool {
	return exec.Command("ip", "link", "show", "dev", name).Run() == nil
}

// usedPrefixes returns the IPv4 prefixes of the machine's interfaces.
func usedPrefixes() ([]netip.Prefix, error) {
	out, err := exec.Command("ip", "-4", "-o", "addr", "show").Output()
	if err != nil {
		return nil, fmt.Errorf("hosts: ip addr show: %w", err)
	}
	var ps []netip.Prefix
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "inet" {
				if p, err := netip.ParsePrefix(f[i+1]); err == nil {
					ps = append(ps, p.Masked())
				}
			}
		}
	}
	return ps, nil
}

func overlaps(p netip.Prefix, used []netip.Prefix) bool {
	for _, u := range used {
		if u.Overlaps(p) {
			return true
		}
	}
	return false
}

func run(name string, args ...string) error {
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("hosts: %s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}
