package electrum

import (
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/cairnchain/cairn/chain/consensus"
)

func mustHash(t *testing.T, s string) chainhash.Hash {
	t.Helper()
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		t.Fatal(err)
	}
	return *h
}

// TestStatusOf checks status hashes against SHA-256 of the protocol's
// "txid:height:" strings computed independently (Python's hashlib), for a
// confirmed entry, a pool entry and both, and null for no history.
func TestStatusOf(t *testing.T) {
	confirmed := historyEntry{TxHash: mustHash(t, "baf18bcf4e4121e2defac73b6a0023794ed631c0865c92d6edbfb245b530ee9b"), Height: 30}
	pooled := historyEntry{TxHash: mustHash(t, "5cdda89ca26754b7702b367136040f7371240ba86fbbc0bee67cad7f4372efb7"), Height: 0, Fee: 1000}
	unconfirmedParent := pooled
	unconfirmedParent.Height = -1
	tests := []struct {
		name    string
		history []historyEntry
		want    string
	}{
		{"confirmed", []historyEntry{confirmed}, "9778582380e81e43eaf1b453124fe85676237ccf9af6b4ea79bcc539c033c74d"},
		{"in the pool", []historyEntry{pooled}, "cfb478df8568c19321e41633b71e776182e7d475db8538171df20846b9b0d1ef"},
		{"both", []historyEntry{confirmed, pooled}, "3e0fbfa7bc39c7606630d66595c2d94177f9f0077ece4162efd34a93badd1868"},
		{"unconfirmed parent", []historyEntry{unconfirmedParent}, "aa89a226dee7eb1575dded32ac6fa517c25b3fe13aa0f146753260d7a3b5f471"},
	}
	for _, test := range tests {
		got := statusOf(test.history)
		if got == nil || *got != test.want {
			t.Errorf("%s: status %v, want %s", test.name, got, test.want)
		}
	}
	if got := statusOf(nil); got != nil {
		t.Errorf("no history: status %q, want null", *got)
	}
}

// TestMerkleBranch checks header proofs against the protocol
// documentation's example (ElectrumX docs, blockchain.block.header with
// cp_height 8 for height 5, Bitcoin's first nine block hashes), recomputed
// independently, and that a branch folds back to its root at every index
// and size, odd levels included.
func TestMerkleBranch(t *testing.T) {
	var leaves []chainhash.Hash
	for _, s := range []string{
		"000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
		"00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048",
		"000000006a625f06636b8bb6ac7b960a8d03705d1ace08b1a19da3fdcc99ddbd",
		"0000000082b5015589a3fdf2d4baff403e6f0be035a5d9742c1cae6295464449",
		"000000004ebadb55ee9096c9a2f8880e09da59c0d68b1c228da88e48844a1485",
		"000000009b7262315dbf071787ad3656097b892abffd1f95a1a022f896f533fc",
		"000000003031a0e73735690c5a1ff2a4be82553b2a12b776fbd3a215dc8f778d",
		"0000000071966c2b1d065fd446b1e485b2c9d9594acd2007ccbd5441cfc89444",
		"00000000408c48f847aa786c2268fc3e6ec2af68e8468a34a28c61b7f1de0dc6",
	} {
		leaves = append(leaves, mustHash(t, s))
	}
	branch, root := consensus.MerkleProof(leaves, 5)
	want := []string{
		"000000004ebadb55ee9096c9a2f8880e09da59c0d68b1c228da88e48844a1485",
		"96cbbc84783888e4cc971ae8acf86dd3c1a419370336bb3c634c97695a8c5ac9",
		"965ac94082cebbcffe458075651e9cc33ce703ab0115c72d9e8b1a9906b2b636",
		"89e5daa6950b895190716dd26054432b564ccdc2868188ba1da76de8e1dc7591",
	}
	if len(branch) != len(want) {
		t.Fatalf("branch of %d hashes, want %d", len(branch), len(want))
	}
	for i := range want {
		if branch[i].String() != want[i] {
			t.Errorf("branch[%d] = %v, want %s", i, branch[i], want[i])
		}
	}
	if root.String() != "e347b1c43fd9b5415bf0d92708db8284b78daf4d0e24f9c3405f45feb85e25db" {
		t.Errorf("root %v", root)
	}
	for n := 1; n <= len(leaves); n++ {
		for i := 0; i < n; i++ {
			branch, root := consensus.MerkleProof(leaves[:n], i)
			if got := foldBranch(leaves[i], branch, i); got != root {
				t.Errorf("%d leaves, index %d: branch folds to %v, root %v", n, i, got, root)
			}
		}
	}
}

// foldBranch hashes leaf up its branch as a client verifies a proof: the
// sibling goes left where the index's bit is 1.
func foldBranch(leaf chainhash.Hash, branch []chainhash.Hash, index int) chainhash.Hash {
	h := leaf
	for _, s := range branch {
		var b []byte
		if index&1 == 1 {
			b = append(append(b, s[:]...), h[:]...)
		} else {
			b = append(append(b, h[:]...), s[:]...)
		}
		h = chainhash.DoubleHashH(b)
		index >>= 1
	}
	return h
}
