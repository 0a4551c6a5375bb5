package p2p

import (
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// GossipSub peer scoring. Gossip's own counters punish what only the
// router sees (invalid messages a validator rejected, broken promises of
// IWANT answers), and the node's misbehaviour score joins in as the
// application-specific score, so a peer the node distrusts loses its place
// in the mesh before it reaches a ban. Co-location by IP is not scored:
// local testnets run many nodes on one address.
const (
	// invalidMessageWeight: one invalid message costs 100 (the count is
	// squared), three take a peer below the gossip threshold.
	invalidMessageWeight = -100
	scoreDecayInterval   = 10 * time.Second
)

// scoreThresholds: below gossip no gossip is exchanged with the peer,
// below publish our messages are not sent to it, below graylist its
// messages are dropped unread.
var scoreThresholds = &pubsub.PeerScoreThresholds{
	SkipAtomicValidation: true,
	GossipThreshold:      -250,
	PublishThreshold:     -500,
	GraylistThreshold:    -1000,
}

// scoreParams returns the scoring of the block and transaction topics.
func (n *Node) scoreParams(topics ...string) *pubsub.PeerScoreParams {
	p := &pubsub.PeerScoreParams{
		SkipAtomicValidation: true,
		Topics:               make(map[string]*pubsub.TopicScoreParams),
		AppSpecificScore: func(p peer.ID) float64 {
			return -float64(n.bans.score(p))
		},
		AppSpecificWeight:         1,
		BehaviourPenaltyWeight:    -10,
		BehaviourPenaltyThreshold: 6,
		BehaviourPenaltyDecay:     0.9,
		DecayInterval:             scoreDecayInterval,
		DecayToZero:               0.01,
		RetainScore:               time.Hour,
	}
	for _, t := range topics {
		p.Topics[t] = &pubsub.TopicScoreParams{
			SkipAtomicValidation: true,
			TopicWeight:          1,
			// Time in the mesh earns nothing, but the router divides
			// by its quantum regardless.
			TimeInMeshQuantum: time.Second,
			// Invalid deliveries halve every decay interval: a peer that
			// slipped once recovers within minutes, a stream of them does not.
			InvalidMessageDeliveriesWeight: invalidMessageWeight,
			InvalidMessageDeliveriesDecay:  0.5,
		}
	}
	return p
}

// recordScores keeps the router's latest view of each peer's score.
func (n *Node) recordScores(scores map[peer.ID]*pubsub.PeerScoreSnapshot) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.gossipScores = scores
}

// gossipScore returns p's latest gossip score (0 when unknown).
func (n *Node) gossipScore(p peer.ID) float64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	if s, ok := n.gossipScores[p]; ok {
		return s.Score
	}
	return 0
}
