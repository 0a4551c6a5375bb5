package testnet

import (
	"errors"
	"fmt"
	"strings"
)

// ParseGroups reads partition groups like "0" "1,2".
func (s *State) ParseGroups(args []string) ([][]int, error) {
	if len(args) < 2 {
		return nil, errors.New("testnet: a partition needs two groups or more, e.g. 0 1,2")
	}
	seen := map[int]bool{}
	var groups [][]int
	for _, a := range args {
		var g []int
		for _, f := range strings.Split(a, ",") {
			n, err := s.Node(strings.TrimSpace(f))
			if err != nil {
				return nil, err
			}
			i := s.index(n)
			if seen[i] {
				return nil, fmt.Errorf("testnet: %s is in two groups", n.Name)
			}
			seen[i] = true
			g = append(g, i)
		}
		groups = append(groups, g)
	}
	return groups, nil
}

func (s *State) index(n *Node) int {
	for i, m := range s.Nodes {
		if m == n {
			return i
		}
	}
	return -1
}

// Partition cuts the network into groups that cannot reach each other.
// In --hosts netns the shaper drops every packet between groups, silently,
// as a cut cable would: connections are not closed, they go quiet. On
// loopback each node bans the peer IDs of every node outside its group
// (the ban drops the connection and the gater refuses new ones). Every node must be
// in a group. Bans of an earlier partition are lifted first. Nodes that
// are down are skipped (they learn nothing of the partition) and named in
// the error.
func (s *State) Partition(groups [][]int) error {
	group := map[int]int{}
	for gi, g := range groups {
		for _, i := range g {
			group[i] = gi
		}
	}
	for i, n := range s.Nodes {
		if _, ok := group[i]; !ok {
			return fmt.Errorf("testnet: %s is in no group: name every node (e.g. 0 1,2)", n.Name)
		}
	}
	if s.netns() {
		// Cut the links between groups at the network layer.
		s.Groups = groups
		return s.applyPlan()
	}
	var down []string
	for i, a := range s.Nodes {
		if !a.running() {
			down = append(down, a.Name)
			continue
		}
		if err := s.Call(a, nil, "clearbanned"); err != nil {
			return fmt.Errorf("testnet: %s clearbanned: %w", a.Name, err)
		}
		for j, b := range s.Nodes {
			if i == j || group[i] == group[j] {
				continue
			}
			if err := s.Call(a, nil, "setban", b.PeerID, "add", 365*24*3600); err != nil && !strings.Contains(err.Error(), "already banned") {
				return fmt.Errorf("testnet: %s bans %s: %w", a.Name, b.Name, err)
			}
		}
	}
	s.Groups = groups
	if err := s.save(); err != nil {
		return err
	}
	if len(down) > 0 {
		return fmt.Errorf("testnet: partitioned, but %v are down and were left out", down)
	}
	return nil
}

// Heal joins the groups again. In --hosts netns the shaper restores the
// links and nothing else is done. On loopback it lifts every ban and
// reconnects each node to the nodes it peers with, at once rather than
// after the redial backoff. Nodes that are down
// are skipped and named in the error.
func (s *State) Heal() error {
	if s.netns() {
		// The links come back; the nodes find each other again by
		// themselves (their connections resume, or they redial).
		s.Groups = nil
		return s.applyPlan()
	}
	var down []string
	for _, n := range s.Nodes {
		if !n.running() {
			down = append(down, n.Name)
			continue
		}
		if err := s.Call(n, nil, "clearbanned"); err != nil {
			return fmt.Errorf("testnet: %s clearbanned: %w", n.Name, err)
		}
	}
	for _, e := range s.edges() {
		if from, to := s.Nodes[e.From], s.Nodes[e.To]; from.running() && to.running() {
			_ = s.Call(from, nil, "addnode", s.peerAddr(e), "onetry")
		}
	}
	s.Groups = nil
	if err := s.save(); err != nil {
		return err
	}
	if len(down) > 0 {
		return fmt.Errorf("testnet: healed, but %v are down (their bans stay until they run and heal again)", down)
	}
	return nil
}

// edges returns the testnet's peerings: its topology's, or, for a testnet
// from before topologies, each node with every node before it.
func (s *State) edges() []Edge {
	if s.Topology != nil {
		return s.Topology.Edges
	}
	var es []Edge
	for i := range s.Nodes {
		for j := 0; j < i; j++ {
			es = append(es, Edge{From: i, To: j})
		}
	}
	return es
}
