//go:build !linux

package netem

import (
	"context"
	"errors"
	"io"
	"os"
)

// QueueNum is the NFQUEUE number the hosts' rules send packets to.
const QueueNum = 0

// Run needs Linux's netfilter queues.
func Run(ctx context.Context, planPath string, reload <-chan os.Signal, logw io.Writer) error {
	return errors.New("netem: shaping needs Linux (netfilter queues in network namespaces)")
}

// Applied returns -1: no shaper runs here.
func Applied(planPath string) int { return -1 }
